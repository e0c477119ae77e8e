// Sample rows for store tests: an item with every awkward value a store must keep (quotes and an
// emoji in the title, a cell id above INT64_MAX), and an event for it.
#pragma once

#include <chrono>
#include <string>

#include "domain/event.h"
#include "domain/surplus.h"

namespace pahlawan::testing {

inline const TimePoint kSampleNow = from_unix_ms(1'795'000'000'000);

inline Surplus sample_surplus(const std::string& id) {
  Surplus s;
  s.id = id;
  s.provider_id = "p1";
  s.title = "Roti \"manis\" 🍞";
  s.category = "bakery";
  s.quantity_kg = 4.5;
  s.lat = -6.2;
  s.lon = 106.8;
  s.cell = 0x2e69f6bc00000000ULL;  // above INT64_MAX: must survive the round trip
  s.created_at = kSampleNow;
  s.expires_at = kSampleNow + std::chrono::hours(2);
  return s;
}

inline Event sample_event(const Surplus& s, const std::string& id, const char* type = event_type::kPosted) {
  return Event{id,          type, s.id, kSampleNow, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
               "{\"n\":1}", 0,    ""};
}

}  // namespace pahlawan::testing
