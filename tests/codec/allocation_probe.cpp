// Replaces the global operator new of the test binary to record the largest single
// request while a probe runs. In a file of its own: GCC's -Wmismatched-new-delete
// misfires where the replacement is inlined next to ordinary new expressions.
#include <cstdlib>
#include <new>

#include "codec/codec_test_support.hpp"

namespace {
// Set only while largest_allocation_during runs; the tests run on one thread.
bool probing = false;
std::size_t largest = 0;
std::size_t count = 0;
}  // namespace

void* operator new(std::size_t size) {
    if (probing) {
        ++count;
        if (size > largest) largest = size;
    }
    if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace blindrouter::testing {

namespace {
void probe(const std::function<void()>& run) {
    largest = 0;
    count = 0;
    probing = true;
    run();
    probing = false;
}
}  // namespace

std::size_t largest_allocation_during(const std::function<void()>& run) {
    probe(run);
    return largest;
}

std::size_t allocations_during(const std::function<void()>& run) {
    probe(run);
    return count;
}

}  // namespace blindrouter::testing
