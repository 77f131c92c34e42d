#include <boost/test/unit_test.hpp>
#include <cmath>
#include <limits>

#include "blindrouter/wamp/value.hpp"

using blindrouter::wamp::Value;

BOOST_AUTO_TEST_SUITE(value)

BOOST_AUTO_TEST_CASE(a_float_that_names_an_integer_reads_as_one) {
    BOOST_TEST(Value{7.0}.as_unsigned().value() == 7u);
    BOOST_TEST(Value{-0.0}.as_unsigned().value() == 0u);
    BOOST_TEST(Value{4503599627370496.0}.as_unsigned().value() == 4503599627370496u);
    BOOST_TEST(Value{18446744073709549568.0}.as_unsigned().value() == 18446744073709549568u);  // below 2^64
    BOOST_TEST(Value{-5.0}.as_integer().value() == -5);
    BOOST_TEST(Value{-9223372036854775808.0}.as_integer().value() == std::numeric_limits<std::int64_t>::min());
}

BOOST_AUTO_TEST_CASE(fractions_and_floats_out_of_range_are_no_integers) {
    for (double d : {1.5, -0.5, 18446744073709551616.0, std::numeric_limits<double>::infinity(), std::nan("")})
        BOOST_TEST(!Value{d}.as_unsigned(), d);
    BOOST_TEST(!Value{-1.0}.as_unsigned());
    BOOST_TEST(!Value{9223372036854775808.0}.as_integer());
    BOOST_TEST(!Value{-std::numeric_limits<double>::infinity()}.as_integer());
    BOOST_TEST(!Value{0.25}.as_integer());
}

BOOST_AUTO_TEST_SUITE_END()
