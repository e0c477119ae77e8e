#include "app/json_event_factory.h"

#include "app/json_render.h"
#include "domain/event.h"
#include "domain/geo.h"

namespace pahlawan {

Event JsonEventFactory::make(const char* type, const Surplus& after, const std::string& traceparent) {
  Event e;
  e.id = ids_.next();
  e.type = type;
  e.surplus_id = after.id;
  e.occurred_at = clock_.now();
  e.traceparent = traceparent;
  e.data_json = payload(after);
  if (e.type == event_type::kOffered && after.offer) e.recipient = after.offer->ngo_id;
  e.region = cell_token(cell_id_at(after.lat, after.lon, kRegionLevel));
  return e;
}

std::string JsonEventFactory::payload(const Surplus& s) {
  return render_surplus(s);
}

}  // namespace pahlawan
