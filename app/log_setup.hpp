#pragma once
// Where and how the node logs: Crossbar's `--loglevel`, `--logformat`, `--color`,
// `--logdir` and `--logtofile`, plus one JSON object per line for log shippers.
#include <spdlog/common.h>
#include <spdlog/formatter.h>
#include <spdlog/sinks/base_sink.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace blindrouter::app {

// Crossbar's three text formats (crossbar/_logging.py: STANDARD_FORMAT, SYSLOGD_FORMAT,
// NONE_FORMAT), and `json`, ours.
enum class LogFormat { standard, syslogd, none, json };
enum class LogColor { automatic, always, never };

std::optional<LogFormat> parse_log_format(std::string_view name);
std::optional<LogColor> parse_log_color(std::string_view name);
std::optional<spdlog::level::level_enum> parse_log_level(std::string_view name);

// One JSON object per line: {"time", "level", "logger", "system", "pid", "message"}.
// The message is already free of client-chosen control characters (wamp::log_text);
// here it is JSON-escaped, and a line that is not UTF-8 is escaped like a client string.
class JsonLineFormatter final : public spdlog::formatter {
public:
    void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
    std::unique_ptr<spdlog::formatter> clone() const override;
};

std::unique_ptr<spdlog::formatter> make_log_formatter(LogFormat format);

// The node log file as Crossbar keeps it (Twisted's DailyLogFile): the current file is
// always `node.log`; at the first line of a new local day the old one is renamed to
// `node.log.Y_M_D` (Twisted's suffix: no zero padding) of the day it was last written.
// Crossbar bounds neither the file nor the day: here a file that would grow past
// `max_bytes` is rotated early, to the first free `node.log.Y_M_D.N`. Rotated files
// are never deleted, as in Crossbar (README "Operations": logrotate or tmpfiles).
// Written by hand because spdlog's daily and rotating sinks name their files otherwise.
class NodeLogFileSink final : public spdlog::sinks::base_sink<std::mutex> {
public:
    using Clock = std::function<std::chrono::system_clock::time_point()>;
    NodeLogFileSink(std::filesystem::path path, std::uint64_t max_bytes, Clock clock = {});
    ~NodeLogFileSink() override;

protected:
    void sink_it_(const spdlog::details::log_msg& msg) override;
    void flush_() override;

private:
    void open();
    void rotate();

    std::filesystem::path path_;
    std::uint64_t max_bytes_;
    Clock clock_;
    std::FILE* file_ = nullptr;
    std::uint64_t size_ = 0;
    int last_day_ = 0;  // yyyymmdd, local time, of the last line written to the file
};

inline constexpr std::uint64_t default_log_file_max_bytes = 64ull * 1024 * 1024;

struct LogSettings {
    spdlog::level::level_enum level = spdlog::level::info;
    LogFormat format = LogFormat::standard;
    LogColor color = LogColor::automatic;
    std::optional<std::filesystem::path> file;  // --logtofile: CBDIR or LOGDIR /node.log
    std::uint64_t max_file_bytes = default_log_file_max_bytes;
};

// Installs the default logger "blindrouter" that every part of the router logs to.
// Throws spdlog::spdlog_ex when the log file cannot be opened.
void start_logging(const LogSettings& settings);

}  // namespace blindrouter::app
