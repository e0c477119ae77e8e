#!/usr/bin/env python3
"""A Jepsen-style history checker for `pahlawan serve`.

Drives a real server with a mixed workload from many concurrent clients (posts, some with an
Idempotency-Key and retried when the answer was lost; claims racing for the same items; declines,
cancels, pickups, DLQ assigns, reads), records every request with its send and receive time and its
answer, kills the server with SIGKILL at random moments, restarts it on the same data directory and
goes on. At the end it stops the server gracefully (so the relay has journalled every event) and
checks invariants over the whole history, the final state read back through the API and the event
journal (events.jsonl):

  - every acknowledged post exists with the acknowledged content, after every restart and at the end;
  - a keyed post made at most one item, and every acknowledgement of a key names that item;
  - no item was claimed by two NGOs; the final claimed_by is the NGO that got the 200 (or one whose
    claim got no answer);
  - versions only grow: across requests that did not overlap in time, and in each item's events;
  - every acknowledged change has exactly one event; the journal has no gap and no duplicate id;
  - no half of anything: each item's final state is its last event's state.

A request that got no answer may or may not have happened: the checker accepts both, never half.

With --replicas N (and --stack postgres) it runs N `serve --replica` processes on one database and
one nats-server (started here), sends each request to a random live replica (commands for another
replica's partition are forwarded), and kills any replica but the first, restarting it as a new
incarnation; the first one's journal (its own relay reads every replica's events) is the one checked.

Exit status 0 when every invariant holds, 1 with the violations listed when one does not, 2 when the
run itself failed (the server would not start). `--expect-violation` inverts 0 and 1: how the test
suite shows the checker catches a planted bug.
"""

import argparse
import collections
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

ADMIN_TOKEN = "history-admin-token-0123456789"
CENTER = (-6.2000, 106.8166)
CATEGORIES = ["prepared_meal", "bakery", "produce"]


class Server:
    """One `pahlawan serve` child on an ephemeral port; restarted on the same data directory."""

    def __init__(self, binary, data_dir, faults, extra, fixed_port=False):
        self.binary, self.data_dir, self.faults, self.extra = binary, data_dir, faults, extra
        self.fixed_port = fixed_port  # a replica: told its port (the others forward to it), not port 0
        self.proc = None
        self.port = None
        self.generation = 0
        self.up = threading.Event()
        self.lock = threading.Lock()

    def start(self):
        env = dict(os.environ)
        env.pop("PAHLAWAN_FAULTS", None)
        if self.faults:
            env["PAHLAWAN_FAULTS"] = self.faults
        listen = "127.0.0.1:%d" % (free_port() if self.fixed_port else 0)
        args = [self.binary, "serve", "--listen", listen, "--data-dir", self.data_dir,
                "--admin-token", ADMIN_TOKEN, "--rate-limit", "0"] + self.extra
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True)
        for line in self.proc.stdout:
            m = re.search(r"listening on http://[^:]+:(\d+)", line)
            if m:
                with self.lock:
                    self.port = int(m.group(1))
                    self.generation += 1
                # Keep draining stdout so the server never blocks on a full pipe.
                threading.Thread(target=self._drain, args=(self.proc,), daemon=True).start()
                self.up.set()
                return
        raise RuntimeError("server did not start (exit %s)" % self.proc.wait())

    @staticmethod
    def _drain(proc):
        for _ in proc.stdout:
            pass

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        self.up.clear()
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        self.up.clear()
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=60)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """Replicas seen as one server: each call goes to a random live replica."""

    def __init__(self, members):
        self.members = members
        self.up = threading.Event()  # the first replica is never killed: up once it has started
        self.lock = threading.Lock()
        self.rng = random.Random(7)

    @property
    def port(self):
        live = [m.port for m in self.members if m.up.is_set()]
        return self.rng.choice(live) if live else self.members[0].port

    def start(self):
        for m in self.members:
            m.start()
        self.up.set()

    def alive(self):
        return all(m.alive() for m in self.members)

    def stop(self):
        # The first last: once the others are gone its relay reads every event there is.
        codes = [m.stop() for m in self.members[1:]] + [self.members[0].stop()]
        return next((c for c in codes if c != 0), 0)


class NatsServer:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="pahlawan-history-nats-")
        self.port = free_port()
        self.proc = subprocess.Popen(["nats-server", "-js", "-sd", self.dir, "-a", "127.0.0.1", "-p", str(self.port)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("nats-server did not start")

    def url(self):
        return "nats://127.0.0.1:%d" % self.port

    def stop(self):
        self.proc.terminate()
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.ops = []
        self.t0 = time.monotonic()

    def add(self, op):
        with self.lock:
            self.ops.append(op)


def call(server, method, path, token=None, body=None, headers=None, timeout=5.0):
    """One request on a fresh connection. Returns (status, json or None, port used); status None when
    no answer came (connection refused or cut, timeout)."""
    if not server.up.wait(timeout=30):
        return None, None
    with server.lock:
        port = server.port
    h = {"Content-Type": "application/json"}
    if token:
        h["Authorization"] = "Bearer " + token
    h.update(headers or {})
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=h)
        resp = conn.getresponse()
        data = resp.read()
        try:
            parsed = json.loads(data) if data else None
        except ValueError:
            parsed = None
        return resp.status, parsed
    except ConnectionRefusedError:
        time.sleep(0.01)  # the server is down until restarted: pace the client rather than spin
        return None, None
    except (OSError, http.client.HTTPException):
        return None, None
    finally:
        conn.close()


def read_all(server, ids):
    """GET /v1/surplus/{id} for each id over one keep-alive connection: {id: (status, surplus)}."""
    with server.lock:
        port = server.port
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    out = {}
    try:
        for sid in ids:
            conn.request("GET", "/v1/surplus/" + sid, headers={"Authorization": "Bearer " + ADMIN_TOKEN})
            resp = conn.getresponse()
            data = resp.read()
            out[sid] = (resp.status, json.loads(data) if resp.status == 200 else None)
    except (OSError, http.client.HTTPException):
        pass  # the server died (an armed fault point): the ids not read are judged later
    finally:
        conn.close()
    return out


class Workload:
    def __init__(self, server, rec, providers, ngos, seed):
        self.server, self.rec = server, rec
        self.providers, self.ngos = providers, ngos  # [(id, token)]
        self.rng_seed = seed
        self.known_lock = threading.Lock()
        self.items = {}  # surplus id -> provider index (items some client learned of)
        self.stop = threading.Event()
        self.running = threading.Event()  # cleared while the checker reads after a restart
        self.running.set()
        self.errors = []

    def record(self, client, kind, method, path, token=None, body=None, headers=None, **info):
        send = time.monotonic() - self.rec.t0
        status, answer = call(self.server, method, path, token, body, headers)
        recv = time.monotonic() - self.rec.t0
        op = dict(client=client, kind=kind, path=path, send=send, recv=recv, status=status, answer=answer, **info)
        self.rec.add(op)
        if status in (200, 201) and isinstance(answer, dict) and "id" in answer and "provider_id" in answer:
            with self.known_lock:
                self.items.setdefault(answer["id"], info.get("provider"))
        return op

    def pick_item(self, rng):
        with self.known_lock:
            if not self.items:
                return None
            # Recent items are where the races are.
            keys = list(self.items.keys())
        return keys[-1 - min(int(rng.expovariate(1 / 20.0)), len(keys) - 1)]

    def client(self, n):
        try:
            self.run_client(n)
        except Exception as e:  # a bug of the checker: the run must not pass without this client
            self.errors.append("client %d: %r" % (n, e))
            raise

    def run_client(self, n):
        rng = random.Random(self.rng_seed * 1000 + n)
        seq = 0
        while not self.stop.is_set():
            self.running.wait()
            r = rng.random()
            if r < 0.35:
                seq += 1
                p = rng.randrange(len(self.providers))
                title = "h-%d-%d" % (n, seq)
                body = {"title": title, "category": rng.choice(CATEGORIES),
                        "quantity_kg": round(rng.uniform(0.5, 40), 3), "ttl_seconds": 3600,
                        "lat": CENTER[0] + rng.uniform(-0.02, 0.02), "lon": CENTER[1] + rng.uniform(-0.02, 0.02)}
                keyed = rng.random() < 0.6
                headers = {"Idempotency-Key": title} if keyed else None
                for attempt in range(4 if keyed else 1):  # a keyed post is retried until answered
                    op = self.record(n, "post", "POST", "/v1/surplus", self.providers[p][1], body, headers,
                                     provider=p, title=title, keyed=keyed, attempt=attempt)
                    if op["status"] is not None:
                        break
                continue
            item = self.pick_item(rng)
            if item is None:
                continue
            g = rng.randrange(len(self.ngos))
            if r < 0.65:
                headers = None
                if rng.random() < 0.3:
                    got = self.record(n, "read", "GET", "/v1/surplus/" + item, self.ngos[g][1], item=item)
                    if got["status"] == 200:
                        headers = {"If-Match": str(got["answer"]["version"])}
                self.record(n, "claim", "POST", "/v1/surplus/%s/claim" % item, self.ngos[g][1], None, headers,
                            item=item, ngo=self.ngos[g][0])
            elif r < 0.72:
                self.record(n, "decline", "POST", "/v1/surplus/%s/decline" % item, self.ngos[g][1], item=item,
                            ngo=self.ngos[g][0])
            elif r < 0.78:
                with self.known_lock:
                    p = self.items.get(item)
                if p is not None:
                    self.record(n, "cancel", "DELETE", "/v1/surplus/" + item, self.providers[p][1], item=item)
            elif r < 0.86:
                self.record(n, "pickup", "POST", "/v1/surplus/%s/pickup" % item, self.ngos[g][1], item=item,
                            ngo=self.ngos[g][0])
            elif r < 0.92:
                dlq = self.record(n, "dlq_list", "GET", "/v1/dlq?limit=20", ADMIN_TOKEN)
                entries = (dlq["answer"] or {}).get("items", []) if dlq["status"] == 200 else []
                if entries:
                    e = rng.choice(entries)
                    self.record(n, "assign", "POST", "/v1/dlq/%s/assign" % e["id"], ADMIN_TOKEN,
                                {"ngo_id": self.ngos[g][0]}, item=e["id"], ngo=self.ngos[g][0])
            else:
                self.record(n, "read", "GET", "/v1/surplus/" + item, self.ngos[g][1], item=item)


def acked_posts(ops):
    return [o for o in ops if o["kind"] == "post" and o["status"] in (200, 201)]


def check_visible(server, ops, checked, rng, when):
    """The posts acknowledged since the last restart, and a sample of the older ones, are readable
    (the end of the run reads every one)."""
    acked = acked_posts(ops)
    fresh = [o for o in acked if o["answer"]["id"] not in checked]
    older = [o for o in acked if o["answer"]["id"] in checked]
    sample = fresh + rng.sample(older, min(200, len(older)))
    got = read_all(server, [o["answer"]["id"] for o in sample])
    problems = []
    for o in sample:
        if o["answer"]["id"] not in got:
            continue  # no answer: checked after the next restart, or at the end
        checked.add(o["answer"]["id"])
        status = got[o["answer"]["id"]][0]
        if status != 200:
            problems.append("%s: acknowledged post %s (%s) answers %s" % (when, o["answer"]["id"], o["title"], status))
    return problems


def read_journal(data_dir):
    files = sorted((f for f in os.listdir(data_dir) if f.startswith("events.jsonl")),
                   key=lambda f: -int(f.rsplit(".", 1)[1]) if f[-1].isdigit() else 0)
    lines = []
    for f in files:
        with open(os.path.join(data_dir, f)) as fh:
            for line in fh:
                try:
                    lines.append(json.loads(line))
                except ValueError:
                    pass  # a line still being written while the server runs
    return lines


def check(ops, final, journal):
    v = []
    # The journal: contiguous sequence, unique ids, versions growing per item.
    seen_ids, last_seq = set(), None
    events_of = collections.defaultdict(list)
    for line in journal:
        if last_seq is not None and line["seq"] != last_seq + 1:
            v.append("journal: seq %d follows %d (gap or repeat)" % (line["seq"], last_seq))
        last_seq = line["seq"]
        e = line["event"]
        if e["id"] in seen_ids:
            v.append("journal: event %s appears twice" % e["id"])
        seen_ids.add(e["id"])
        if e["type"].startswith("surplus."):  # not the admin's audit events
            events_of[e["surplus_id"]].append(e)
    for sid, evs in events_of.items():
        for a, b in zip(evs, evs[1:]):
            if b["data"]["version"] <= a["data"]["version"]:
                v.append("journal: %s: %s v%d after %s v%d" % (sid, b["type"], b["data"]["version"], a["type"],
                                                               a["data"]["version"]))
        # The state read at the end is one an event recorded (a change is never half made); the server
        # may have moved on after the read (a lapsed offer), so later events are allowed.
        f = final.get(sid)
        if f is None:
            v.append("%s has events but cannot be read" % sid)
            continue
        same = [e for e in evs if e["data"]["version"] == f["version"]]
        if not same:
            v.append("%s: final version %d has no event (versions %s)" % (sid, f["version"],
                                                                        [e["data"]["version"] for e in evs]))
        else:
            for field in ("status", "claimed_by"):
                if f.get(field) != same[0]["data"].get(field):
                    v.append("%s: final %s is %r, the event of its version (%s) says %r" % (
                        sid, field, f.get(field), same[0]["type"], same[0]["data"].get(field)))

    def count(sid, etype):
        return sum(1 for e in events_of.get(sid, []) if e["type"] == etype)

    # Posts: acknowledged content, one item per logical post (titles are unique), keys never twice.
    items_of_title = collections.defaultdict(set)
    for sid, evs in events_of.items():
        for e in evs:
            if e["type"] == "surplus.posted":
                items_of_title[e["data"]["title"]].add(sid)
    for title, sids in items_of_title.items():
        if len(sids) > 1:
            v.append("post %s made %d items: %s" % (title, len(sids), sorted(sids)))
    ids_of_title = collections.defaultdict(set)
    for o in acked_posts(ops):
        a = o["answer"]
        ids_of_title[o["title"]].add(a["id"])
        f = final.get(a["id"])
        if f is None:
            v.append("acknowledged post %s (%s) is missing" % (a["id"], o["title"]))
            continue
        for field in ("title", "category", "quantity_kg", "provider_id", "lat", "lon", "created_at", "expires_at"):
            if f.get(field) != a.get(field):
                v.append("post %s: %s acknowledged %r, now %r" % (a["id"], field, a.get(field), f.get(field)))
        if count(a["id"], "surplus.posted") != 1:
            v.append("post %s has %d surplus.posted events" % (a["id"], count(a["id"], "surplus.posted")))
    for title, sids in ids_of_title.items():
        if len(sids) > 1:
            v.append("key %s acknowledged with different items %s" % (title, sorted(sids)))

    # Claims: at most one winner per item, and the final state agrees.
    winners = collections.defaultdict(set)
    unanswered = collections.defaultdict(set)
    for o in ops:
        if o["kind"] == "claim":
            if o["status"] == 200:
                winners[o["item"]].add(o["ngo"])
                if o["answer"].get("claimed_by") != o["ngo"]:
                    v.append("claim of %s by %s answered claimed_by %s" % (o["item"], o["ngo"],
                                                                        o["answer"].get("claimed_by")))
            elif o["status"] is None:
                unanswered[o["item"]].add(o["ngo"])
    for sid, ngos in winners.items():
        if len(ngos) > 1:
            v.append("DOUBLE CLAIM: %s claimed by %s" % (sid, sorted(ngos)))
        f = final.get(sid) or {}
        if f.get("claimed_by") not in ngos:
            v.append("%s: claim acknowledged to %s, final claimed_by %s" % (sid, sorted(ngos), f.get("claimed_by")))
    for sid, f in final.items():
        if f.get("claimed_by") and f["claimed_by"] not in winners.get(sid, set()) | unanswered.get(sid, set()):
            v.append("%s claimed by %s, who never got a 200 nor lost an answer" % (sid, f["claimed_by"]))
        if f.get("claimed_by") and count(sid, "surplus.claimed") != 1:
            v.append("%s is claimed but has %d surplus.claimed events" % (sid, count(sid, "surplus.claimed")))

    # Other acknowledged changes: exactly one event each.
    for kind, etype in (("cancel", "surplus.cancelled"), ("pickup", "surplus.picked_up")):
        done = {o["item"] for o in ops if o["kind"] == kind and o["status"] == 200}
        for sid in done:
            if count(sid, etype) != 1:
                v.append("%s of %s acknowledged, %d %s events" % (kind, sid, count(sid, etype), etype))

    # Versions only grow between requests that did not overlap, and end at least at the highest seen.
    seen = collections.defaultdict(list)  # item -> [(send, recv, version)]
    for o in ops:
        a = o["answer"]
        if o["status"] in (200, 201) and isinstance(a, dict) and "version" in a and "id" in a:
            seen[a["id"]].append((o["send"], o["recv"], a["version"]))
    for sid, obs in seen.items():
        by_recv = sorted(obs, key=lambda x: x[1])
        j, highest_done = 0, 0
        for send, _, ver in sorted(obs):
            while j < len(by_recv) and by_recv[j][1] < send:
                highest_done = max(highest_done, by_recv[j][2])
                j += 1
            if ver < highest_done:
                v.append("%s: version %d answered after version %d had been" % (sid, ver, highest_done))
        f = final.get(sid)
        top = max(x[2] for x in obs)
        if f and f["version"] < top:
            v.append("%s: final version %d below the %d once answered" % (sid, f["version"], top))
    return v


def postgres_database():
    """A fresh database for the run: its --store arguments, and how to drop it."""
    server = os.environ.get("PAHLAWAN_TEST_POSTGRES", "")
    if not server:
        print("history: --stack postgres needs PAHLAWAN_TEST_POSTGRES (run through scripts/test.sh)", flush=True)
        sys.exit(2)
    name = "pp_history_%d" % os.getpid()
    base = server[:server.rfind("/") + 1]
    quiet = dict(os.environ, PGOPTIONS="-c client_min_messages=warning")
    subprocess.run(["psql", "-q", server, "-c", "DROP DATABASE IF EXISTS %s WITH (FORCE)" % name,
                    "-c", "CREATE DATABASE %s" % name], check=True, stdout=subprocess.DEVNULL, env=quiet)

    def drop():
        subprocess.run(["psql", "-q", server, "-c", "DROP DATABASE IF EXISTS %s WITH (FORCE)" % name],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return ["--store", base + name, "--migrate", "true"], drop


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server", required=True, help="the pahlawan binary")
    ap.add_argument("--duration", type=float, default=20, help="seconds of workload")
    ap.add_argument("--kills", type=int, default=3, help="SIGKILLs at random moments during the run")
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--faults", default="", help="PAHLAWAN_FAULTS for every start (test builds)")
    ap.add_argument("--expect-violation", action="store_true", help="succeed only if a violation is found")
    ap.add_argument("--keep", action="store_true", help="keep the data directory and the history")
    ap.add_argument("--stack", choices=["embedded", "postgres"], default="embedded",
                    help="postgres: the server keeps its data in a fresh database on the PostgreSQL server "
                         "named by PAHLAWAN_TEST_POSTGRES (as scripts/test.sh starts it)")
    ap.add_argument("--replicas", type=int, default=1,
                    help="several `serve --replica` processes on one database and nats-server (--stack postgres)")
    args, extra = ap.parse_known_args()
    store_args, drop_database = [], None
    if args.stack == "postgres":
        store_args, drop_database = postgres_database()
    if args.replicas > 1 and args.stack != "postgres":
        print("history: --replicas needs --stack postgres", flush=True)
        return 2

    # A watchdog, so that a hang (of the server or of the checker) fails the run rather than CI's clock.
    limit = 3 * args.duration + 120

    def give_up():
        print("history: no verdict after %.0f s: hung" % limit, flush=True)
        os._exit(2)

    watchdog = threading.Timer(limit, give_up)
    watchdog.daemon = True
    watchdog.start()
    data_dir = tempfile.mkdtemp(prefix="pahlawan-history-")
    rng = random.Random(args.seed)
    print("history: seed %d, %d clients, %.0f s, %d kills, %d replica(s), data %s" % (
        args.seed, args.clients, args.duration, args.kills, args.replicas, data_dir), flush=True)
    # Short offer deadlines so that re-matches, lapses and DLQ entries happen within the run.
    common = ["--ack-timeout", "2", "--max-pending-offers", "2"] + store_args + [a for a in extra if a != "--"]
    nats = None
    if args.replicas > 1:
        nats = NatsServer()
        members = []
        for i in range(args.replicas):
            d = os.path.join(data_dir, "r%d" % i)
            os.makedirs(d)
            members.append(Server(args.server, d, args.faults,
                                  common + ["--bus", nats.url(), "--replica", "r%d" % i, "--lease-ttl-ms", "2000"],
                                  fixed_port=True))
        server = Cluster(members)
        journal_dir = members[0].data_dir
    else:
        server = Server(args.server, data_dir, args.faults, common)
        journal_dir = data_dir
    rec = Recorder()
    violations = []
    try:
        server.start()
        providers, ngos = [], []
        for i in range(2):
            s, a = call(server, "POST", "/v1/providers", ADMIN_TOKEN,
                        {"name": "Hotel %d" % i, "lat": CENTER[0], "lon": CENTER[1]})
            assert s == 201, (s, a)
            providers.append((a["id"], a["token"]))
        for i in range(5):
            s, a = call(server, "POST", "/v1/ngos", ADMIN_TOKEN,
                        {"name": "Panti %d" % i, "lat": CENTER[0] + 0.01 * i, "lon": CENTER[1]})
            assert s == 201, (s, a)
            ngos.append((a["id"], a["token"]))

        if nats:
            # Every replica learns the parties from the shared outbox; the last one registered is
            # known once the rest are (events in commit order).
            for m in server.members:
                deadline = time.monotonic() + 30
                while call(m, "GET", "/v1/offers", ngos[-1][1])[0] != 200:
                    if time.monotonic() > deadline:
                        raise RuntimeError("replica %s never learned the NGOs" % m.data_dir)
                    time.sleep(0.05)  # a bounded poll of the replica's state
        work = Workload(server, rec, providers, ngos, args.seed)
        # Daemon threads: if the run itself fails, the checker still exits.
        threads = [threading.Thread(target=work.client, args=(n,), daemon=True) for n in range(args.clients)]
        for t in threads:
            t.start()
        end = time.monotonic() + args.duration
        kill_at = sorted(rng.uniform(0.1, 0.9) * args.duration for _ in range(args.kills))
        start = time.monotonic()
        restarts = 0
        checked = set()
        for at in kill_at:
            time.sleep(max(0.0, start + at - time.monotonic()))  # the schedule of the run, not a synchronisation
            victim = rng.choice(server.members[1:]) if nats else server
            if victim.alive():
                victim.kill()
            else:
                victim.proc.wait()  # a fault point crashed it already
            restarts += 1
            victim.start()
            # The clients pause while the restart is checked: the check reads thousands of items, and
            # competing with a dozen busy client threads for the interpreter made it crawl.
            work.running.clear()
            with rec.lock:
                so_far = list(rec.ops)
            violations += check_visible(server, so_far, checked, rng, "after restart %d" % restarts)
            work.running.set()
        while time.monotonic() < end:
            if not nats and not server.alive():  # crashed by an armed fault point: restart
                server.up.clear()
                server.proc.wait()
                restarts += 1
                server.start()
            time.sleep(0.05)
        work.stop.set()
        for t in threads:
            t.join()
        if work.errors:
            raise RuntimeError("; ".join(work.errors))
        if not nats and (args.faults or not server.alive()):  # the final reads need a server that stays up
            if server.alive():
                server.kill()
            server.proc.wait()
            server.faults = ""
            server.start()

        # The final state of every item anyone heard of, read from the last server; then a graceful
        # stop, after which the journal holds every event committed.
        final = {}
        ids = {o["answer"]["id"] for o in rec.ops if isinstance(o["answer"], dict) and "provider_id" in o["answer"]}
        ids |= {line["event"]["surplus_id"] for line in read_journal(journal_dir) if line["event"]["surplus_id"]}
        got = read_all(server, sorted(ids))
        if len(got) != len(ids):
            raise RuntimeError("the final server stopped answering after %d of %d reads" % (len(got), len(ids)))
        code = server.stop()
        if code != 0:
            violations.append("graceful stop exited %s" % code)
        journal = read_journal(journal_dir)
        # The journal is written by the outbox relay, which may still have been catching up on what
        # a crashed server committed but never answered when the ids were gathered: read those too,
        # from a server started again, and stop it gracefully once more.
        late = sorted({line["event"]["surplus_id"] for line in journal if line["event"]["surplus_id"]} - set(got))
        if late:
            print("history: %d item(s) reached the journal after the final reads; reading them" % len(late))
            server.start()
            more = read_all(server, late)
            if len(more) != len(late):
                raise RuntimeError("the last server stopped answering after %d of %d reads" % (len(more), len(late)))
            got.update(more)
            code = server.stop()
            if code != 0:
                violations.append("graceful stop exited %s" % code)
            journal = read_journal(journal_dir)
        for sid, (s, a) in got.items():
            if s == 200:
                final[sid] = a
        violations += check(rec.ops, final, journal)
    except Exception as e:  # the run, not the server's behaviour, failed
        import traceback
        traceback.print_exc()
        print("history: run failed: %r" % (e,), flush=True)
        if 'work' in locals():
            work.stop.set()
        for m in (server.members if nats else [server]):
            if m.alive():
                m.kill()
        if nats:
            nats.stop()
        return 2
    if nats:
        nats.stop()

    kinds = collections.Counter((o["kind"], o["status"]) for o in rec.ops)
    print("history: %d requests, %d restarts, %d items, %d journal events" % (len(rec.ops), restarts, len(final),
                                                                             len(journal)))
    print("history: " + ", ".join("%s %s: %d" % (k, s, n) for (k, s), n in sorted(kinds.items(), key=str)))
    for line in violations[:50]:
        print("VIOLATION: " + line)
    if len(violations) > 50:
        print("... and %d more" % (len(violations) - 50))
    if args.keep:
        with open(os.path.join(data_dir, "history.json"), "w") as fh:
            json.dump(rec.ops, fh)
        print("history: kept in " + data_dir)
    else:
        shutil.rmtree(data_dir, ignore_errors=True)
        if drop_database:
            drop_database()
    found = bool(violations)
    print("history: %s" % ("VIOLATIONS FOUND" if found else "all invariants hold"))
    if args.expect_violation:
        return 0 if found else 1
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
