#include "blindrouter/codec/message_schema_check.hpp"

namespace blindrouter::codec {

std::optional<std::string> check_field(const wamp::MessageSchema& schema, const wamp::FieldSpec& field,
                                       const wamp::Value& value) {
    // The reason is written only for a field that fails: this runs for every routing
    // field of every message.
    auto refuse = [&](std::string_view what) {
        // Built with append: GCC 12 warns falsely (-Wrestrict) on chained operator+ here.
        std::string reason;
        reason.append("'").append(field.name).append("' in ").append(schema.name).append(": ").append(what);
        return std::optional<std::string>(std::move(reason));
    };
    switch (field.kind) {
        case wamp::FieldKind::id: {
            auto id = value.as_unsigned();
            if (!id) return refuse("invalid type for ID");
            if (*id < 1 || *id > max_wamp_id) return refuse("ID " + std::to_string(*id) + " out of range [1, 2^53]");
            return std::nullopt;
        }
        case wamp::FieldKind::integer:
            if (!value.as_unsigned()) return refuse("invalid type for integer");
            return std::nullopt;
        case wamp::FieldKind::uri:
            if (!value.as_string()) return refuse("invalid type for URI");
            return std::nullopt;
        case wamp::FieldKind::uri_or_null:
            if (!value.as_string() && !value.is_null()) return refuse("invalid type for URI");
            return std::nullopt;
        case wamp::FieldKind::dict:
            if (!value.as_dict()) return refuse("invalid type for dict");
            return std::nullopt;
    }
    return refuse("unknown field kind");
}

std::optional<ElementLayout> layout_for(const wamp::MessageSchema& schema, std::size_t element_count) {
    const auto all = schema.fields.size();
    if (element_count < schema.required_fields) return std::nullopt;
    if (schema.carries_arguments) {
        if (element_count < all) return std::nullopt;
        if (element_count > all + 2) return std::nullopt;
        return ElementLayout{all, element_count - all};
    }
    if (element_count > all) return std::nullopt;
    return ElementLayout{element_count, 0};
}

}  // namespace blindrouter::codec
