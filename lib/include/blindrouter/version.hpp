#pragma once
#include <string_view>

namespace blindrouter {
inline constexpr std::string_view version = "0.1.0";
}
