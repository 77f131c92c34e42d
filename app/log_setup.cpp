#include "log_setup.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/details/os.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <ctime>
#include <map>
#include <utility>

#include "blindrouter/wamp/log_text.hpp"

namespace blindrouter::app {
namespace fs = std::filesystem;

namespace {

// Crossbar's level names (Twisted's LogLevel and txaio's "trace"): "warn", not spdlog's "warning".
std::string_view level_name(spdlog::level::level_enum level) {
    static constexpr std::array<std::string_view, 7> names{"trace", "debug", "info", "warn",
                                                           "error", "critical", "none"};
    return names.at(static_cast<std::size_t>(level));
}

class LevelFlag final : public spdlog::custom_flag_formatter {
public:
    void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
        // Padded to the longest common name ("debug"), so that messages line up.
        auto name = level_name(msg.level);
        dest.append(name.data(), name.data() + name.size());
        for (auto n = name.size(); n < 5; ++n) dest.push_back(' ');
    }
    std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<LevelFlag>(); }
};

int local_day(std::chrono::system_clock::time_point when) {
    std::time_t t = std::chrono::system_clock::to_time_t(when);
    std::tm tm{};
    localtime_r(&t, &tm);
    return (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
}

}  // namespace

std::optional<LogFormat> parse_log_format(std::string_view name) {
    static const std::map<std::string_view, LogFormat> formats{
        {"standard", LogFormat::standard}, {"syslogd", LogFormat::syslogd},
        {"none", LogFormat::none},         {"json", LogFormat::json}};
    auto it = formats.find(name);
    if (it == formats.end()) return std::nullopt;
    return it->second;
}

std::optional<LogColor> parse_log_color(std::string_view name) {
    static const std::map<std::string_view, LogColor> colors{
        {"auto", LogColor::automatic}, {"true", LogColor::always}, {"false", LogColor::never}};
    auto it = colors.find(name);
    if (it == colors.end()) return std::nullopt;
    return it->second;
}

std::optional<spdlog::level::level_enum> parse_log_level(std::string_view name) {
    // Crossbar's choices, plus "critical" (ours, kept for existing deployments).
    static const std::map<std::string_view, spdlog::level::level_enum> levels{
        {"none", spdlog::level::off},   {"critical", spdlog::level::critical}, {"error", spdlog::level::err},
        {"warn", spdlog::level::warn},  {"info", spdlog::level::info},         {"debug", spdlog::level::debug},
        {"trace", spdlog::level::trace},
    };
    auto it = levels.find(name);
    if (it == levels.end()) return std::nullopt;
    return it->second;
}

void JsonLineFormatter::format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
    auto since_epoch = msg.time.time_since_epoch();
    std::time_t seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch).count();
    auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch).count() % 1000;
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    std::array<char, 32> time{};
    auto length = std::strftime(time.data(), time.size(), "%Y-%m-%dT%H:%M:%S", &tm);
    std::string timestamp(time.data(), length);
    timestamp += fmt::format(".{:03}Z", millis);

    std::string_view text(msg.payload.data(), msg.payload.size());
    std::string escaped;
    if (!wamp::is_valid_utf8(text)) {
        escaped = wamp::log_text(text, text.size());
        text = escaped;
    }
    std::string_view logger(msg.logger_name.data(), msg.logger_name.size());
    auto level = level_name(msg.level);

    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    writer.StartObject();
    writer.Key("time");
    writer.String(timestamp.data(), static_cast<rapidjson::SizeType>(timestamp.size()));
    writer.Key("level");
    writer.String(level.data(), static_cast<rapidjson::SizeType>(level.size()));
    writer.Key("logger");
    writer.String(logger.data(), static_cast<rapidjson::SizeType>(logger.size()));
    writer.Key("system");
    writer.String("Router");
    writer.Key("pid");
    writer.Int(static_cast<int>(spdlog::details::os::pid()));
    writer.Key("message");
    writer.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
    writer.EndObject();
    dest.append(buffer.GetString(), buffer.GetString() + buffer.GetSize());
    dest.push_back('\n');
}

std::unique_ptr<spdlog::formatter> JsonLineFormatter::clone() const { return std::make_unique<JsonLineFormatter>(); }

std::unique_ptr<spdlog::formatter> make_log_formatter(LogFormat format) {
    if (format == LogFormat::json) return std::make_unique<JsonLineFormatter>();
    // Crossbar's "{time} [{system}] {text}" with the system "Controller  <pid>"
    // ("{:<10} {:>6}"); we add the level, which Crossbar shows only by stream and colour.
    static const std::map<LogFormat, std::string> patterns{
        {LogFormat::standard, "%^%Y-%m-%dT%H:%M:%S.%e%z [Router %6P]%$ %* %v"},
        {LogFormat::syslogd, "%^[Router %6P]%$ %* %v"},
        {LogFormat::none, "%v"},
    };
    auto formatter = std::make_unique<spdlog::pattern_formatter>();
    formatter->add_flag<LevelFlag>('*').set_pattern(patterns.at(format));
    return formatter;
}

NodeLogFileSink::NodeLogFileSink(fs::path path, std::uint64_t max_bytes, Clock clock)
    : path_(std::move(path)), max_bytes_(max_bytes), clock_(std::move(clock)) {
    if (!clock_) clock_ = [] { return std::chrono::system_clock::now(); };
    open();
}

NodeLogFileSink::~NodeLogFileSink() {
    if (file_ != nullptr) std::fclose(file_);
}

void NodeLogFileSink::open() {
    file_ = std::fopen(path_.c_str(), "ab");
    if (file_ == nullptr)
        spdlog::throw_spdlog_ex("cannot open log file " + path_.string(), errno);
    struct stat info {};
    // Like Twisted's DailyLogFile, the day of a file we append to is the day it was last written.
    if (::stat(path_.c_str(), &info) == 0) {
        size_ = static_cast<std::uint64_t>(info.st_size);
        last_day_ = local_day(std::chrono::system_clock::from_time_t(info.st_mtime));
    } else {
        size_ = 0;
        last_day_ = local_day(clock_());
    }
}

void NodeLogFileSink::rotate() {
    std::string base = fmt::format("{}.{}_{}_{}", path_.string(), last_day_ / 10000, last_day_ / 100 % 100,
                                   last_day_ % 100);
    std::string target = base;
    std::error_code ec;
    for (int n = 1; fs::exists(target, ec); ++n) target = fmt::format("{}.{}", base, n);
    std::fclose(file_);
    file_ = nullptr;
    fs::rename(path_, target, ec);
    open();
}

void NodeLogFileSink::sink_it_(const spdlog::details::log_msg& msg) {
    spdlog::memory_buf_t line;
    formatter_->format(msg, line);
    if (local_day(clock_()) > last_day_ || (size_ > 0 && size_ + line.size() > max_bytes_)) rotate();
    if (std::fwrite(line.data(), 1, line.size(), file_) == line.size()) size_ += line.size();
    std::fflush(file_);
    // Twisted keeps max(last, today): a clock stepped back must not rotate twice.
    last_day_ = std::max(last_day_, local_day(clock_()));
}

void NodeLogFileSink::flush_() { std::fflush(file_); }

void start_logging(const LogSettings& settings) {
    spdlog::sink_ptr sink;
    if (settings.file) {
        sink = std::make_shared<NodeLogFileSink>(*settings.file, settings.max_file_bytes);
    } else {
        // Crossbar splits info (stdout) from warnings (stderr); one stream keeps the lines
        // in order for journald and pipes, so everything goes to stderr.
        auto terminal = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
        static const std::map<LogColor, spdlog::color_mode> modes{{LogColor::automatic, spdlog::color_mode::automatic},
                                                                  {LogColor::always, spdlog::color_mode::always},
                                                                  {LogColor::never, spdlog::color_mode::never}};
        terminal->set_color_mode(settings.format == LogFormat::json ? spdlog::color_mode::never
                                                                    : modes.at(settings.color));
        sink = terminal;
    }
    sink->set_formatter(make_log_formatter(settings.format));
    auto logger = std::make_shared<spdlog::logger>("blindrouter", sink);
    spdlog::set_default_logger(logger);
    spdlog::set_level(settings.level);
}

}  // namespace blindrouter::app
