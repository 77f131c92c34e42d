#include "blindrouter/codec/message_schema_check.hpp"

namespace blindrouter::codec {

std::optional<std::string> check_field(const wamp::MessageSchema& schema, const wamp::FieldSpec& field,
                                       const wamp::Value& value) {
    // Built with append: GCC 12 warns falsely (-Wrestrict) on chained operator+ here.
    std::string where;
    where.append("'").append(field.name).append("' in ").append(schema.name).append(": ");
    switch (field.kind) {
        case wamp::FieldKind::id: {
            auto id = value.as_unsigned();
            if (!id) return where + "invalid type for ID";
            if (*id < 1 || *id > max_wamp_id) return where.append("ID ").append(std::to_string(*id)).append(" out of range [1, 2^53]");
            return std::nullopt;
        }
        case wamp::FieldKind::integer:
            if (!value.as_unsigned()) return where + "invalid type for integer";
            return std::nullopt;
        case wamp::FieldKind::uri:
            if (!value.as_string()) return where + "invalid type for URI";
            return std::nullopt;
        case wamp::FieldKind::uri_or_null:
            if (!value.as_string() && !value.is_null()) return where + "invalid type for URI";
            return std::nullopt;
        case wamp::FieldKind::dict:
            if (!value.as_dict()) return where + "invalid type for dict";
            return std::nullopt;
    }
    return where + "unknown field kind";
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
