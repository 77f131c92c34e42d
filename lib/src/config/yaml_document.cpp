#include "yaml_document.hpp"

#include <yaml.h>

#include <cctype>
#include <cstdlib>
#include <limits>
#include <map>
#include <memory>
#include <regex>
#include <string_view>
#include <vector>

#include "blindrouter/config/node_config_loader.hpp"

namespace blindrouter::config {
namespace {

using Value = rapidjson::Value;

// Crossbar reads YAML with PyYAML's safe_load (cb:common/checkconfig.py
// check_config_file), which types a plain scalar by YAML 1.1's implicit resolvers
// (PyYAML resolver.py). libyaml only tokenizes, so these are PyYAML's patterns.
const std::regex& bool_pattern() {
    static const std::regex p("yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF");
    return p;
}
const std::regex& int_pattern() {
    static const std::regex p(
        "[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+");
    return p;
}
const std::regex& float_pattern() {
    static const std::regex p(
        "[-+]?(?:[0-9][0-9_]*)\\.[0-9_]*(?:[eE][-+][0-9]+)?|\\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?"
        "|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\\.[0-9_]*|[-+]?\\.(?:inf|Inf|INF)|\\.(?:nan|NaN|NAN)");
    return p;
}
const std::regex& timestamp_pattern() {
    static const std::regex p(
        "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"
        "|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \\t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\\.[0-9]*)?"
        "(?:[ \\t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?");
    return p;
}

constexpr std::string_view tag_prefix = "tag:yaml.org,2002:";

// PyYAML's implicit tag of a plain scalar: the short name after tag:yaml.org,2002:.
std::string_view implicit_tag(const std::string& text) {
    if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") return "null";
    if (std::regex_match(text, bool_pattern())) return "bool";
    if (std::regex_match(text, int_pattern())) return "int";
    if (std::regex_match(text, float_pattern())) return "float";
    if (text == "<<") return "merge";
    if (text == "=") return "value";
    if (std::regex_match(text, timestamp_pattern())) return "timestamp";
    return "str";
}

// PyYAML's construct_yaml_int: '_' ignored, 0b / 0x / leading-0 octal, and base 60
// for "1:30". Python ints have no bound; one past int64/uint64 becomes a float here
// as it does in the JSON reader.
bool set_int(std::string text, Value& out) {
    std::erase(text, '_');
    bool negative = false;
    if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
        negative = text[0] == '-';
        text.erase(0, 1);
    }
    long double magnitude = 0;
    auto digits = [&](std::string_view d, int base) {
        for (char c : d) {
            int v = c >= 'a' ? c - 'a' + 10 : c >= 'A' ? c - 'A' + 10 : c - '0';
            magnitude = magnitude * base + v;
        }
    };
    if (text == "0") magnitude = 0;
    else if (text.starts_with("0b")) digits(std::string_view(text).substr(2), 2);
    else if (text.starts_with("0x")) digits(std::string_view(text).substr(2), 16);
    else if (text[0] == '0') digits(std::string_view(text).substr(1), 8);
    else if (text.find(':') != std::string::npos) {
        std::size_t start = 0;
        while (start <= text.size()) {
            auto end = text.find(':', start);
            if (end == std::string::npos) end = text.size();
            magnitude = magnitude * 60 + std::stoll(text.substr(start, end - start));
            start = end + 1;
        }
    } else digits(text, 10);
    if (!negative && magnitude <= static_cast<long double>(std::numeric_limits<std::uint64_t>::max()))
        out.SetUint64(static_cast<std::uint64_t>(magnitude));
    else if (negative && magnitude <= -static_cast<long double>(std::numeric_limits<std::int64_t>::min()))
        out.SetInt64(static_cast<std::int64_t>(-magnitude));
    else out.SetDouble(static_cast<double>(negative ? -magnitude : magnitude));
    return true;
}

// PyYAML's construct_yaml_float.
void set_float(std::string text, Value& out) {
    std::erase(text, '_');
    for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    double sign = 1;
    if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
        sign = text[0] == '-' ? -1 : 1;
        text.erase(0, 1);
    }
    if (text == ".inf") return void(out.SetDouble(sign * std::numeric_limits<double>::infinity()));
    if (text == ".nan") return void(out.SetDouble(std::numeric_limits<double>::quiet_NaN()));
    if (text.find(':') == std::string::npos) return void(out.SetDouble(sign * std::strtod(text.c_str(), nullptr)));
    double value = 0;
    std::size_t start = 0;
    while (start <= text.size()) {
        auto end = text.find(':', start);
        if (end == std::string::npos) end = text.size();
        value = value * 60 + std::strtod(text.substr(start, end - start).c_str(), nullptr);
        start = end + 1;
    }
    out.SetDouble(sign * value);
}

struct Event {
    yaml_event_t event{};
    bool held = false;
    ~Event() {
        if (held) yaml_event_delete(&event);
    }
};

class Reader {
public:
    Reader(const std::string& text, rapidjson::Document& doc) : doc_(doc) {
        yaml_parser_initialize(&parser_);
        yaml_parser_set_input_string(&parser_, reinterpret_cast<const unsigned char*>(text.data()), text.size());
    }
    ~Reader() { yaml_parser_delete(&parser_); }
    Reader(const Reader&) = delete;
    Reader& operator=(const Reader&) = delete;

    std::optional<std::string> read() {
        Event e;
        if (!next(e) || e.event.type != YAML_STREAM_START_EVENT) return error_;
        if (!next(e)) return error_;
        if (e.event.type == YAML_STREAM_END_EVENT) {
            doc_.SetNull();  // an empty file is None to safe_load
            return std::nullopt;
        }
        if (!node_after_document_start(e)) return error_;
        if (!next(e)) return error_;  // DOCUMENT_END
        if (!next(e)) return error_;
        if (e.event.type != YAML_STREAM_END_EVENT)
            return at(e.event.start_mark, "expected a single document in the stream, but found another document");
        return std::nullopt;
    }

private:
    bool next(Event& e) {
        if (e.held) yaml_event_delete(&e.event);
        e.held = false;
        if (!yaml_parser_parse(&parser_, &e.event)) {
            error_ = std::string(parser_.problem ? parser_.problem : "cannot parse") +
                     (parser_.context ? std::string(" ") + parser_.context : std::string()) + " at line " +
                     std::to_string(parser_.problem_mark.line + 1) + " column " +
                     std::to_string(parser_.problem_mark.column + 1);
            return false;
        }
        e.held = true;
        return true;
    }
    bool fail(const yaml_mark_t& mark, const std::string& what) {
        error_ = *at(mark, what);
        return false;
    }
    static std::optional<std::string> at(const yaml_mark_t& mark, const std::string& what) {
        return what + " at line " + std::to_string(mark.line + 1) + " column " + std::to_string(mark.column + 1);
    }

    bool node_after_document_start(Event& e) {
        if (e.event.type != YAML_DOCUMENT_START_EVENT) return fail(e.event.start_mark, "expected a document");
        Event first;
        if (!next(first)) return false;
        return node(first, doc_, 1);
    }

    bool count_node(const yaml_mark_t& mark) {
        if (++nodes_ <= max_config_yaml_nodes) return true;
        return fail(mark, "more than " + std::to_string(max_config_yaml_nodes) +
                              " nodes (aliases counted as often as they are used)");
    }

    // Builds the node that starts with `e` into `out`.
    bool node(Event& e, Value& out, std::size_t depth) {
        const auto& ev = e.event;
        if (depth > max_config_depth)
            return fail(ev.start_mark, "nested deeper than " + std::to_string(max_config_depth) + " levels");
        switch (ev.type) {
            case YAML_ALIAS_EVENT: {
                std::string name(reinterpret_cast<const char*>(ev.data.alias.anchor));
                auto it = anchors_.find(name);
                if (it == anchors_.end()) return fail(ev.start_mark, "found undefined alias '" + name + "'");
                if (!it->second) return fail(ev.start_mark, "found recursive alias '" + name + "'");
                nodes_ += it->second->nodes;
                if (nodes_ > max_config_yaml_nodes) return count_node(ev.start_mark);
                out.CopyFrom(it->second->value, doc_.GetAllocator());
                return true;
            }
            case YAML_SCALAR_EVENT:
                if (!count_node(ev.start_mark) || !scalar(ev, out)) return false;
                remember(ev.data.scalar.anchor, out, 1);
                return true;
            case YAML_SEQUENCE_START_EVENT: {
                if (!count_node(ev.start_mark) || !collection_tag(ev.data.sequence_start.tag, "seq", ev.start_mark))
                    return false;
                auto anchor = open_anchor(ev.data.sequence_start.anchor);
                auto before = nodes_;
                out.SetArray();
                for (;;) {
                    Event item;
                    if (!next(item)) return false;
                    if (item.event.type == YAML_SEQUENCE_END_EVENT) break;
                    Value v;
                    if (!node(item, v, depth + 1)) return false;
                    out.PushBack(v, doc_.GetAllocator());
                }
                close_anchor(anchor, out, nodes_ - before + 1);
                return true;
            }
            case YAML_MAPPING_START_EVENT: {
                if (!count_node(ev.start_mark) || !collection_tag(ev.data.mapping_start.tag, "map", ev.start_mark))
                    return false;
                auto anchor = open_anchor(ev.data.mapping_start.anchor);
                auto before = nodes_;
                if (!mapping(out, depth)) return false;
                close_anchor(anchor, out, nodes_ - before + 1);
                return true;
            }
            default:
                return fail(ev.start_mark, "unexpected YAML event");
        }
    }

    // Explicit keys win over merged ones (PyYAML flatten_mapping); a key written
    // twice is refused, where PyYAML would silently keep the last.
    bool mapping(Value& out, std::size_t depth) {
        out.SetObject();
        Value merged(rapidjson::kObjectType);
        for (;;) {
            Event key_event;
            if (!next(key_event)) return false;
            if (key_event.event.type == YAML_MAPPING_END_EVENT) break;
            auto mark = key_event.event.start_mark;
            bool merge = key_event.event.type == YAML_SCALAR_EVENT && is_merge_key(key_event.event);
            Value key;
            if (!merge && !node(key_event, key, depth + 1)) return false;
            Event value_event;
            if (!next(value_event)) return false;
            Value value;
            if (!node(value_event, value, depth + 1)) return false;
            if (merge) {
                if (!merge_into(merged, value, mark)) return false;
                continue;
            }
            if (!key.IsString())
                return fail(mark, "a mapping key must be a string in a node configuration (" +
                                      std::string(key.IsNumber() ? "number" : key.IsBool() ? "bool" : key.IsNull() ? "null" : "collection") +
                                      " found)");
            if (out.HasMember(key)) return fail(mark, "duplicate key '" + std::string(key.GetString()) + "'");
            out.AddMember(key, value, doc_.GetAllocator());
        }
        // By index: clang's C++20 finds rapidjson's mutable member iterators' != ambiguous.
        for (rapidjson::SizeType i = 0; i < merged.MemberCount(); ++i) {
            auto& m = *(merged.MemberBegin() + i);
            if (!out.HasMember(m.name)) out.AddMember(m.name, m.value, doc_.GetAllocator());
        }
        return true;
    }

    bool merge_into(Value& merged, Value& value, const yaml_mark_t& mark) {
        auto one = [&](Value& source) {
            if (!source.IsObject())
                return fail(mark, "expected a mapping or list of mappings for merging");
            for (rapidjson::SizeType i = 0; i < source.MemberCount(); ++i) {
                auto& m = *(source.MemberBegin() + i);
                if (!merged.HasMember(m.name)) {  // an earlier mapping in a merge list wins
                    Value name(m.name, doc_.GetAllocator());
                    merged.AddMember(name, m.value, doc_.GetAllocator());
                }
            }
            return true;
        };
        if (!value.IsArray()) return one(value);
        for (auto& item : value.GetArray())
            if (!one(item)) return false;
        return true;
    }

    static bool is_merge_key(const yaml_event_t& ev) {
        const auto& s = ev.data.scalar;
        return s.plain_implicit && !s.tag && std::string_view(reinterpret_cast<const char*>(s.value), s.length) == "<<";
    }

    bool collection_tag(const yaml_char_t* tag, std::string_view expected, const yaml_mark_t& mark) {
        if (!tag) return true;
        std::string_view t(reinterpret_cast<const char*>(tag));
        if (t.starts_with(tag_prefix) && t.substr(tag_prefix.size()) == expected) return true;
        return fail(mark, "tag '" + std::string(t) + "' is not read in a node configuration (Crossbar reads YAML with safe_load)");
    }

    bool scalar(const yaml_event_t& ev, Value& out) {
        const auto& s = ev.data.scalar;
        std::string text(reinterpret_cast<const char*>(s.value), s.length);
        std::string_view tag;
        if (s.tag) {
            std::string_view t(reinterpret_cast<const char*>(s.tag));
            if (t == "!") tag = "str";  // the non-specific tag of a quoted scalar
            else if (t.starts_with(tag_prefix)) tag = t.substr(tag_prefix.size());
            else return fail(ev.start_mark, "tag '" + std::string(t) + "' is not read in a node configuration");
        } else {
            tag = s.plain_implicit ? implicit_tag(text) : "str";
        }
        if (tag == "str") {
            out.SetString(text.data(), static_cast<rapidjson::SizeType>(text.size()), doc_.GetAllocator());
        } else if (tag == "null") {
            out.SetNull();
        } else if (tag == "bool") {
            auto c = text.empty() ? '\0' : text[0];
            if (!s.plain_implicit && !std::regex_match(text, bool_pattern()))
                return fail(ev.start_mark, "'" + text + "' is not a YAML bool");
            out.SetBool(c == 'y' || c == 'Y' || c == 't' || c == 'T' || text == "on" || text == "On" || text == "ON");
        } else if (tag == "int") {
            if (!std::regex_match(text, int_pattern())) return fail(ev.start_mark, "'" + text + "' is not a YAML int");
            set_int(text, out);
        } else if (tag == "float") {
            if (!std::regex_match(text, float_pattern()) && !std::regex_match(text, int_pattern()))
                return fail(ev.start_mark, "'" + text + "' is not a YAML float");
            set_float(text, out);
        } else if (tag == "merge") {
            return fail(ev.start_mark, "a merge key '<<' can only be a mapping key");
        } else {
            // timestamp, binary, value, set, omap ...: safe_load builds Python objects
            // that no key of a node configuration takes.
            return fail(ev.start_mark, "a YAML " + std::string(tag) + " ('" + text +
                                           "') is no value of a node configuration; quote it to make it a string");
        }
        return true;
    }

    struct Anchored {
        Value value;
        std::size_t nodes = 0;
    };
    std::string open_anchor(const yaml_char_t* anchor) {
        if (!anchor) return {};
        std::string name(reinterpret_cast<const char*>(anchor));
        anchors_[name].reset();  // defined but not complete: an alias to it now is recursive
        return name;
    }
    void close_anchor(const std::string& name, const Value& value, std::size_t nodes) {
        if (name.empty()) return;
        auto anchored = std::make_unique<Anchored>();
        anchored->value.CopyFrom(value, doc_.GetAllocator());
        anchored->nodes = nodes;
        anchors_[name] = std::move(anchored);
    }
    void remember(const yaml_char_t* anchor, const Value& value, std::size_t nodes) {
        close_anchor(open_anchor(anchor), value, nodes);
    }

    yaml_parser_t parser_{};
    rapidjson::Document& doc_;
    std::map<std::string, std::unique_ptr<Anchored>> anchors_;
    std::size_t nodes_ = 0;
    std::optional<std::string> error_;
};

}  // namespace

std::optional<std::string> parse_yaml_document(const std::string& text, rapidjson::Document& out) {
    return Reader(text, out).read();
}

}  // namespace blindrouter::config
