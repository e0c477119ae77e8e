// JSON text as the API writes it: numbers as the shortest plain decimal that reads back as the same
// double (12.5, not Boost.JSON 1.81's 1.25E1), strings escaped, nothing else changed. Used by every
// renderer of the app and by the simulator's reports.
#pragma once

#include <boost/json/value.hpp>

#include <string>

namespace pahlawan {

std::string to_text(const boost::json::value& v);

}  // namespace pahlawan
