// The OTLP/JSON body of an ExportTraceServiceRequest (opentelemetry-proto's JSON mapping: ids as
// lowercase hex, enums as numbers, 64-bit integers as strings), for POST /v1/traces.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "ports/span_exporter.h"

namespace pahlawan {

// resource: the resource's string attributes (service.name, service.instance.id, ...).
std::string otlp_json_body(const std::vector<std::pair<std::string, std::string>>& resource,
                           const std::vector<SpanRecord>& spans);

}  // namespace pahlawan
