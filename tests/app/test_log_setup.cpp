#include <boost/test/unit_test.hpp>
#include <rapidjson/document.h>
#include <spdlog/details/log_msg.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "temp_dir.hpp"
#include "log_setup.hpp"

using namespace blindrouter::app;
namespace fs = std::filesystem;

namespace {

std::string format_line(spdlog::formatter& formatter, spdlog::level::level_enum level, std::string_view text) {
    spdlog::details::log_msg msg("blindrouter", level, spdlog::string_view_t(text.data(), text.size()));
    spdlog::memory_buf_t out;
    formatter.format(msg, out);
    return std::string(out.data(), out.size());
}

std::string read_all(const fs::path& path) {
    std::ifstream in(path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

void log_line(NodeLogFileSink& sink, std::string_view text) {
    spdlog::details::log_msg msg("blindrouter", spdlog::level::info, spdlog::string_view_t(text.data(), text.size()));
    sink.log(msg);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(log_setup)

BOOST_AUTO_TEST_CASE(crossbar_option_values_parse_and_others_do_not) {
    BOOST_TEST((parse_log_format("standard") == LogFormat::standard));
    BOOST_TEST((parse_log_format("syslogd") == LogFormat::syslogd));
    BOOST_TEST((parse_log_format("none") == LogFormat::none));
    BOOST_TEST((parse_log_format("json") == LogFormat::json));
    BOOST_TEST(!parse_log_format("xml").has_value());
    BOOST_TEST((parse_log_color("auto") == LogColor::automatic));
    BOOST_TEST((parse_log_color("false") == LogColor::never));
    BOOST_TEST(!parse_log_color("yes").has_value());
    BOOST_TEST((parse_log_level("warn") == spdlog::level::warn));
    BOOST_TEST((parse_log_level("none") == spdlog::level::off));
    BOOST_TEST(!parse_log_level("warning").has_value());
}

BOOST_AUTO_TEST_CASE(json_line_is_one_object_with_escaped_message) {
    JsonLineFormatter formatter;
    auto line = format_line(formatter, spdlog::level::warn, "quote \" backslash \\ tab \t end");
    BOOST_TEST(line.back() == '\n');
    BOOST_TEST(line.find('\n') == line.size() - 1);
    rapidjson::Document doc;
    doc.Parse(line.data(), line.size() - 1);
    BOOST_REQUIRE(!doc.HasParseError());
    BOOST_TEST(std::string(doc["level"].GetString()) == "warn");
    BOOST_TEST(std::string(doc["logger"].GetString()) == "blindrouter");
    BOOST_TEST(std::string(doc["system"].GetString()) == "Router");
    BOOST_TEST(std::string(doc["message"].GetString()) == "quote \" backslash \\ tab \t end");
    std::string time = doc["time"].GetString();
    BOOST_TEST(time.size() == 24u);  // 2026-12-01T09:36:50.123Z
    BOOST_TEST(time.back() == 'Z');
    BOOST_TEST(doc["pid"].IsInt());
}

BOOST_AUTO_TEST_CASE(json_line_escapes_bytes_that_are_not_utf8) {
    JsonLineFormatter formatter;
    auto line = format_line(formatter, spdlog::level::info, "bad \xFF byte");
    rapidjson::Document doc;
    doc.Parse(line.data(), line.size() - 1);
    BOOST_REQUIRE(!doc.HasParseError());
    BOOST_TEST(std::string(doc["message"].GetString()) == "bad \\xFF byte");
}

BOOST_AUTO_TEST_CASE(text_formats_follow_crossbar) {
    auto standard = make_log_formatter(LogFormat::standard);
    auto line = format_line(*standard, spdlog::level::warn, "hello");
    BOOST_TEST(line.find(" [Router ") == 29u);  // after 2026-12-01T09:36:50.123+00:00
    BOOST_TEST(line.find("] warn  hello") != std::string::npos);
    auto syslogd = make_log_formatter(LogFormat::syslogd);
    line = format_line(*syslogd, spdlog::level::info, "hello");
    BOOST_TEST(line.rfind("[Router ", 0) == 0u);
    BOOST_TEST(line.find("] info  hello") != std::string::npos);
    auto none = make_log_formatter(LogFormat::none);
    BOOST_TEST(format_line(*none, spdlog::level::info, "hello").rfind("hello", 0) == 0u);
}

BOOST_AUTO_TEST_CASE(log_file_rotates_at_a_new_day_with_twisteds_name) {
    TempDir dir;
    auto path = dir.path / "node.log";
    auto now = std::chrono::system_clock::now();
    auto clock_now = now;
    NodeLogFileSink sink(path, 1 << 20, [&] { return clock_now; });
    sink.set_formatter(make_log_formatter(LogFormat::none));
    log_line(sink, "first day");
    clock_now = now + std::chrono::hours(24);
    log_line(sink, "second day");

    std::time_t t = std::chrono::system_clock::to_time_t(now);
    std::tm tm{};
    localtime_r(&t, &tm);
    auto rotated = dir.path / ("node.log." + std::to_string(tm.tm_year + 1900) + "_" + std::to_string(tm.tm_mon + 1) +
                               "_" + std::to_string(tm.tm_mday));
    BOOST_REQUIRE(fs::exists(rotated));
    BOOST_TEST(read_all(rotated) == "first day\n");
    BOOST_TEST(read_all(path) == "second day\n");
}

BOOST_AUTO_TEST_CASE(log_file_is_bounded_in_size) {
    TempDir dir;
    auto path = dir.path / "node.log";
    NodeLogFileSink sink(path, 25);
    sink.set_formatter(make_log_formatter(LogFormat::none));
    for (int i = 0; i < 5; ++i) log_line(sink, "0123456789");  // 11 bytes a line: two fit
    BOOST_TEST(fs::file_size(path) <= 25u);
    int rotated = 0;
    for (const auto& entry : fs::directory_iterator(dir.path)) {
        if (entry.path() == path) continue;
        ++rotated;
        BOOST_TEST(entry.file_size() <= 25u);
    }
    BOOST_TEST(rotated == 2);
}

BOOST_AUTO_TEST_SUITE_END()
