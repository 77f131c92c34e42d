#include "blindrouter/codec/element_translation.hpp"

#include "blindrouter/codec/element_access.hpp"
#include "message_elements.hpp"

namespace blindrouter::codec {
namespace detail {
namespace {

// First pass for a source that does not state container sizes up front (JSON,
// indefinite-length CBOR): each container's element count (pairs for a dict), in
// the order the containers start.
class ContainerSizes final : public ValueSink {
public:
    bool null() override { return item(); }
    bool boolean(bool) override { return item(); }
    bool integer(std::int64_t) override { return item(); }
    bool unsigned_integer(std::uint64_t) override { return item(); }
    bool floating(double) override { return item(); }
    bool string(std::string_view) override { return item(); }
    bool binary(std::string_view) override { return item(); }
    bool begin_list(std::optional<std::size_t>) override { return open(); }
    bool end_list() override { return close(1); }
    bool begin_dict(std::optional<std::size_t>) override { return open(); }
    bool end_dict() override { return close(2); }

    std::vector<std::size_t> take() { return std::move(sizes_); }

private:
    bool item() {
        if (!open_.empty()) ++open_.back().items;
        return true;
    }
    bool open() {
        item();
        open_.push_back(Open{sizes_.size(), 0});
        sizes_.push_back(0);
        return true;
    }
    bool close(std::size_t items_per_element) {
        sizes_[open_.back().index] = open_.back().items / items_per_element;
        open_.pop_back();
        return true;
    }

    struct Open {
        std::size_t index;
        std::size_t items;
    };
    std::vector<Open> open_;
    std::vector<std::size_t> sizes_;
};

// Second pass: the events handed on to the writer, each container with its size.
class SizedEvents final : public ValueSink {
public:
    SizedEvents(ValueWriter& writer, std::vector<std::size_t> sizes) : writer_(writer), sizes_(std::move(sizes)) {}

    bool null() override { return pass(writer_.null()); }
    bool boolean(bool b) override { return pass(writer_.boolean(b)); }
    bool integer(std::int64_t i) override { return pass(writer_.integer(i)); }
    bool unsigned_integer(std::uint64_t u) override { return pass(writer_.unsigned_integer(u)); }
    bool floating(double d) override { return pass(writer_.floating(d)); }
    bool string(std::string_view s) override { return pass(writer_.string(s)); }
    bool binary(std::string_view b) override { return pass(writer_.binary(b)); }
    bool extension(std::string_view e) override { return pass(writer_.extension(e)); }
    bool negative_below_int64(std::uint64_t n) override { return pass(writer_.negative_below_int64(n)); }
    bool begin_list(std::optional<std::size_t>) override { return pass(writer_.begin_list(sizes_.at(next_++))); }
    bool end_list() override { return pass(writer_.end_list()); }
    bool begin_dict(std::optional<std::size_t>) override { return pass(writer_.begin_dict(sizes_.at(next_++))); }
    bool end_dict() override { return pass(writer_.end_dict()); }

private:
    bool pass(bool accepted) { return accepted || refuse(writer_.refusal()); }

    ValueWriter& writer_;
    std::vector<std::size_t> sizes_;
    std::size_t next_ = 0;
};

}  // namespace

bool write_element(ValueWriter& writer, const wamp::EncodedElement& element) {
    auto bytes = ElementAccess::bytes(element);
    auto source = element.serializer();
    if (source == writer.serializer()) return writer.raw(bytes, element.kind());
    // JSON writes containers without sizes; MsgPack states them everywhere.
    if (writer.serializer() == wamp::Serializer::json || source == wamp::Serializer::msgpack)
        return !read_value(source, bytes, writer, max_translation_depth);
    ContainerSizes sizes;
    if (read_value(source, bytes, sizes, max_translation_depth)) return false;
    SizedEvents sized(writer, sizes.take());
    return !read_value(source, bytes, sized, max_translation_depth);
}

}  // namespace detail

std::optional<std::string> translate_element(const wamp::EncodedElement& element, wamp::Serializer target) {
    auto writer = detail::make_writer(target);
    if (!detail::write_element(*writer, element)) return std::nullopt;
    return writer->take();
}

}  // namespace blindrouter::codec
