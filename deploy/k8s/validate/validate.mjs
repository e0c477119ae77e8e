// Validates Kubernetes objects (a multi-document YAML on stdin, as `kubectl kustomize` renders it)
// against the API schemas, offline, with kubernetes-models: each object's validate() checks it
// against its kind's OpenAPI schema. Exits 1 naming every object that fails, or an unknown kind.
import { parseAllDocuments } from "yaml";
import * as models from "kubernetes-models";

const input = await new Promise((resolve) => {
  let text = "";
  process.stdin.on("data", (chunk) => (text += chunk));
  process.stdin.on("end", () => resolve(text));
});

// "apps/v1" -> models.apps.v1; "v1" -> models.v1; "networking.k8s.io/v1" -> models.networkingK8sIo.v1.
function modelOf(apiVersion, kind) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : [null, apiVersion];
  const ns = group ? models[group.replace(/\.(\w)/g, (_, c) => c.toUpperCase())] : models;
  return ns?.[version]?.[kind] ?? null;
}

let failed = 0;
let checked = 0;
for (const doc of parseAllDocuments(input)) {
  const obj = doc.toJS();
  if (!obj) continue;
  const where = `${obj.kind}/${obj.metadata?.name}`;
  const Model = modelOf(obj.apiVersion, obj.kind);
  if (!Model) {
    console.error(`${where}: no schema for ${obj.apiVersion} ${obj.kind}`);
    failed++;
    continue;
  }
  try {
    new Model(obj).validate();
    checked++;
  } catch (e) {
    console.error(`${where}: ${e.message}`);
    failed++;
  }
}
console.log(`${checked} objects valid, ${failed} invalid`);
process.exit(failed === 0 && checked > 0 ? 0 : 1);
