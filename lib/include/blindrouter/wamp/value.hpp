#pragma once
// A serializer-neutral value for the routing fields the router must read
// (ids, options/details dicts, URIs). Arguments and ArgumentsKw never become
// Values: they stay encoded bytes (see wamp/message.hpp).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace blindrouter::wamp {

struct Value;
using List = std::vector<Value>;
// Insertion-ordered: options dicts are small, and order is kept when re-encoding.
using Dict = std::vector<std::pair<std::string, Value>>;
struct Binary {
    std::string bytes;
    bool operator==(const Binary&) const = default;
};

struct Value {
    using Storage = std::variant<std::monostate, bool, std::int64_t, std::uint64_t, double,
                                 std::string, Binary, List, Dict>;
    Storage data;

    Value() = default;
    Value(bool b) : data(b) {}
    Value(std::int64_t i) : data(i) {}
    Value(std::uint64_t u) : data(u) {}
    Value(int i) : data(static_cast<std::int64_t>(i)) {}
    Value(double d) : data(d) {}
    Value(std::string s) : data(std::move(s)) {}
    Value(const char* s) : data(std::string(s)) {}
    Value(Binary b) : data(std::move(b)) {}
    Value(List l) : data(std::move(l)) {}
    Value(Dict d) : data(std::move(d)) {}

    bool is_null() const { return std::holds_alternative<std::monostate>(data); }
    const bool* as_bool() const { return std::get_if<bool>(&data); }
    const std::string* as_string() const { return std::get_if<std::string>(&data); }
    const List* as_list() const { return std::get_if<List>(&data); }
    const Dict* as_dict() const { return std::get_if<Dict>(&data); }
    Dict* as_dict() { return std::get_if<Dict>(&data); }
    // Non-negative integers of any width, as WAMP ids and counts are; a float that
    // names an integer exactly counts as one (JavaScript clients send those).
    std::optional<std::uint64_t> as_unsigned() const;
    std::optional<std::int64_t> as_integer() const;

    bool operator==(const Value&) const = default;
};

// Lookup in a Dict by key; nullptr when absent.
const Value* find(const Dict& dict, std::string_view key);
// Sets or replaces a key, keeping insertion order.
void set(Dict& dict, std::string key, Value value);

}  // namespace blindrouter::wamp
