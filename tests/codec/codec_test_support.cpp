#include "blindrouter/codec/element_access.hpp"
#include "codec/codec_test_support.hpp"

#include <boost/test/unit_test.hpp>
#include <optional>

namespace blindrouter::testing {

std::string from_hex(std::string_view hex) {
    std::string out;
    int pending = -1;
    for (char c : hex) {
        if (c == ' ') continue;
        int nibble = c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
        if (pending < 0) {
            pending = nibble;
        } else {
            out += static_cast<char>(pending << 4 | nibble);
            pending = -1;
        }
    }
    return out;
}

std::string bytes_of(const wamp::EncodedElement& element) {
    return std::string(codec::ElementAccess::bytes(element));
}

wamp::EncodedElement element_of(wamp::Serializer serializer, wamp::ElementKind kind, const std::string& bytes) {
    return wamp::EncodedElement(serializer, kind, std::make_shared<const std::string>(bytes), 0, bytes.size());
}

wamp::Message event_carrying(const wamp::Message& source) {
    wamp::Message event;
    event.type = wamp::MessageType::event;
    event.fields = {wamp::Value{std::uint64_t{11}}, wamp::Value{std::uint64_t{12}}, wamp::Value{wamp::Dict{}}};
    event.arguments = source.arguments;
    event.arguments_kw = source.arguments_kw;
    return event;
}

wamp::Message result_carrying_kwargs(const wamp::Message& source) {
    wamp::Message result;
    result.type = wamp::MessageType::result;
    result.fields = {wamp::Value{std::uint64_t{3}}, wamp::Value{wamp::Dict{}}};
    result.arguments_kw = source.arguments_kw;
    return result;
}

wamp::Message router_error() {
    wamp::Message m;
    m.type = wamp::MessageType::error;
    m.fields = {wamp::Value{std::uint64_t{48}}, wamp::Value{std::uint64_t{2}}, wamp::Value{wamp::Dict{}},
                wamp::Value{"wamp.error.y"}};
    m.router_arguments = wamp::List{wamp::Value{"why"}};
    m.router_arguments_kw =
        wamp::Dict{{"n", wamp::Value{std::int64_t{-1}}}, {"b", wamp::Value{wamp::Binary{"\x01\x02"}}}};
    return m;
}

codec::DecodeResult decode_with(Decoder decoder, const std::string& frame) {
    return decoder(std::make_shared<const std::string>(frame));
}

namespace {
void check_violation(const codec::DecodeResult& result, std::size_t frame_size, const std::string& reason_part,
                     std::size_t largest_allocation) {
    BOOST_TEST_CONTEXT("frame of " << frame_size << " bytes, expecting: " << reason_part) {
        BOOST_TEST(!result);
        BOOST_TEST(result.error().find(reason_part) != std::string::npos, "reason: " << result.error());
        BOOST_TEST(largest_allocation < 4096u, "largest allocation: " << largest_allocation << " bytes");
    }
}
}  // namespace

void expect_violation(Decoder decoder, const std::string& frame, const std::string& reason_part) {
    check_violation(decode_with(decoder, frame), frame.size(), reason_part, 0);
}


void expect_violation_in_small_allocations(Decoder decoder, const std::string& frame, const std::string& reason_part) {
    auto shared = std::make_shared<const std::string>(frame);
    std::optional<codec::DecodeResult> result;
    auto largest = largest_allocation_during([&] { result.emplace(decoder(shared)); });
    check_violation(*result, frame.size(), reason_part, largest);
}

}  // namespace blindrouter::testing
