#include "value_sink.hpp"

#include "text_scan.hpp"

#include <rapidjson/encodings.h>
#include <rapidjson/memorystream.h>

#include <algorithm>
#include <type_traits>
#include <variant>

namespace blindrouter::codec::detail {

bool ValueBuilder::expecting_key() const {
    return !open_.empty() && open_.back().container.as_dict() && !open_.back().key;
}

bool ValueBuilder::string(std::string_view s) {
    if (!is_valid_utf8(s)) return refuse("string is not valid UTF-8");
    if (expecting_key()) {
        open_.back().key.emplace(s);
        return true;
    }
    return place(wamp::Value{std::string(s)});
}

// wampy 8 builds Options from JavaScript objects whose unset keys hold undefined
// ({match: undefined}), and msgpackr and cbor-x encode those keys. To the sender
// such a key is not there (JSON.stringify drops it), so it is dropped here rather
// than read as null, which an option reader would refuse as the wrong type.
// Elsewhere (a list item, a whole routing field) undefined reads as null.
bool ValueBuilder::undefined() {
    if (!open_.empty() && open_.back().container.as_dict() && open_.back().key) {
        open_.back().key.reset();
        return true;
    }
    return null();
}

bool ValueBuilder::place(wamp::Value value) {
    if (open_.empty()) {
        root_ = std::move(value);
        return true;
    }
    if (expecting_key()) return refuse("map key is not a string");
    auto& top = open_.back();
    if (auto* dict = top.container.as_dict()) {
        // JSON states no size up front (begin_dict): room for a handful of keys at the
        // first, so an options dict grows once, not at 1, 2 and 4 keys.
        if (dict->capacity() == 0) dict->reserve(dict_first_capacity);
        dict->emplace_back(std::move(*top.key), std::move(value));
        top.key.reset();
    } else {
        std::get<wamp::List>(top.container.data).push_back(std::move(value));
    }
    return true;
}

bool ValueBuilder::open(wamp::Value container) {
    if (expecting_key()) return refuse("map key is not a string");
    open_.push_back(Open{std::move(container), std::nullopt});
    return true;
}

bool ValueBuilder::close() {
    auto container = std::move(open_.back().container);
    open_.pop_back();
    // A repeated key is read differently by different peers (the payload plugin
    // checks the first "enc_algo", a receiver may take the last), so it is refused.
    if (const auto* dict = container.as_dict(); dict && has_duplicate_key(*dict))
        return refuse("duplicate key in dict");
    return place(std::move(container));
}

bool has_duplicate_key(const wamp::Dict& dict) {
    // Options and details hold a handful of keys: comparing pairs costs less than
    // allocating. Beyond that, sorting keeps a hostile big dict at n log n.
    constexpr std::size_t pairwise_limit = 16;
    if (dict.size() <= pairwise_limit) {
        for (std::size_t i = 1; i < dict.size(); ++i)
            for (std::size_t j = 0; j < i; ++j)
                if (dict[i].first == dict[j].first) return true;
        return false;
    }
    std::vector<std::string_view> keys;
    keys.reserve(dict.size());
    for (const auto& entry : dict) keys.emplace_back(entry.first);
    std::sort(keys.begin(), keys.end());
    return std::adjacent_find(keys.begin(), keys.end()) != keys.end();
}

bool emit(const wamp::Value& value, ValueSink& sink) {
    return std::visit(
        [&sink](const auto& v) {
            using V = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<V, std::monostate>) return sink.null();
            else if constexpr (std::is_same_v<V, bool>) return sink.boolean(v);
            else if constexpr (std::is_same_v<V, std::int64_t>)
                return v < 0 ? sink.integer(v) : sink.unsigned_integer(static_cast<std::uint64_t>(v));
            else if constexpr (std::is_same_v<V, std::uint64_t>) return sink.unsigned_integer(v);
            else if constexpr (std::is_same_v<V, double>) return sink.floating(v);
            else if constexpr (std::is_same_v<V, std::string>) return sink.string(v);
            else if constexpr (std::is_same_v<V, wamp::Binary>) return sink.binary(v.bytes);
            else return emit(v, sink);
        },
        value.data);
}

bool emit(const wamp::List& list, ValueSink& sink) {
    if (!sink.begin_list(list.size())) return false;
    for (const auto& item : list)
        if (!emit(item, sink)) return false;
    return sink.end_list();
}

bool emit(const wamp::Dict& dict, ValueSink& sink) {
    if (!sink.begin_dict(dict.size())) return false;
    for (const auto& [key, item] : dict)
        if (!sink.string(key) || !emit(item, sink)) return false;
    return sink.end_dict();
}

// Checked as rapidjson checks it, one sequence at a time past each run of ASCII
// (the keys and URIs of routing fields are all of it).
bool is_valid_utf8(std::string_view text) {
    struct Discard {
        void Put(char) {}
    } discard;
    for (std::size_t i = ascii_length(text); i < text.size(); i += ascii_length(text.substr(i))) {
        rapidjson::MemoryStream in(text.data() + i, text.size() - i);
        if (!rapidjson::UTF8<>::Validate(in, discard)) return false;
        i += in.Tell();
    }
    return true;
}

}  // namespace blindrouter::codec::detail
