#define BOOST_TEST_MODULE blindrouter
#include <boost/test/unit_test.hpp>
