#include "node_directory.hpp"

#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <fstream>
#include <sstream>

namespace blindrouter::app {
namespace fs = std::filesystem;

namespace {

std::optional<std::string> read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::optional<pid_t> pid_in(const std::string& text) {
    rapidjson::Document document;
    document.Parse(text.data(), text.size());
    if (document.HasParseError() || !document.IsObject()) return std::nullopt;
    auto it = document.FindMember("pid");
    if (it == document.MemberEnd()) return std::nullopt;
    long value = 0;
    if (it->value.IsInt64()) {
        value = it->value.GetInt64();
    } else if (it->value.IsString()) {
        // Crossbar reads int(pid_data['pid']): a pid written as a string counts too.
        std::string_view s(it->value.GetString(), it->value.GetStringLength());
        auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
        if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
    } else {
        return std::nullopt;
    }
    if (value <= 0 || value > 0x7fffffff) return std::nullopt;
    return static_cast<pid_t>(value);
}

// Crossbar's _is_crossbar_process on psutil's cmdline, with our own name added: the
// node directory may have been run by either.
bool is_router_process(pid_t pid) {
    auto cmdline = read_file(fs::path("/proc") / std::to_string(pid) / "cmdline");
    if (!cmdline) return true;  // not ours to read: assume it is the node, as Crossbar without psutil
    std::vector<std::string> args;
    std::istringstream in(*cmdline);
    for (std::string arg; std::getline(in, arg, '\0') && args.size() < 2;) args.push_back(arg);
    for (const auto& arg : args) {
        auto name = fs::path(arg).filename().string();
        if (name.find("blindrouter") != std::string::npos || name.find("crossbar") != std::string::npos) return true;
    }
    return false;
}

}  // namespace

bool process_alive(pid_t pid) {
    // EPERM: the process exists but belongs to someone else (Crossbar takes that for
    // "gone" and removes the pid file; a node run by another user is still running).
    if (::kill(pid, 0) != 0 && errno != EPERM) return false;
    auto stat = read_file(fs::path("/proc") / std::to_string(pid) / "stat");
    if (!stat) return true;
    auto close = stat->rfind(')');
    return close == std::string::npos || close + 2 >= stat->size() || (*stat)[close + 2] != 'Z';
}

std::optional<pid_t> running_node(const fs::path& cbdir, std::vector<std::string>& notes) {
    auto path = cbdir / pid_file_name;
    auto text = read_file(path);
    if (!text) return std::nullopt;
    auto pid = pid_in(*text);
    std::string kind;
    std::string reason;
    if (!pid) {
        kind = "Corrupt";
        reason = "corrupt .pid file";
    } else if (*pid == ::getpid()) {
        return std::nullopt;
    } else if (process_alive(*pid)) {
        if (is_router_process(*pid)) return pid;
        notes.push_back("\"" + path.string() + "\" points to PID " + std::to_string(*pid) +
                        " which is not a router process; verify manually and either kill " + std::to_string(*pid) +
                        " or delete " + path.string());
        return std::nullopt;
    } else {
        kind = "Stale";
        reason = "pointing to non-existing process with PID " + std::to_string(*pid);
    }
    std::error_code ec;
    if (fs::remove(path, ec))
        notes.push_back(kind + " PID file (" + reason + ") " + path.string() + " removed");
    else
        notes.push_back("Could not remove " + kind + " PID file (" + reason + ") " + path.string() + ": " +
                        ec.message());
    return std::nullopt;
}

std::string write_pid_file(const fs::path& cbdir, const std::vector<std::string>& argv,
                           const std::vector<std::pair<std::string, std::string>>& options) {
    rapidjson::StringBuffer buffer;
    rapidjson::PrettyWriter<rapidjson::StringBuffer> writer(buffer);
    writer.SetIndent(' ', 4);
    writer.StartObject();
    writer.Key("pid");
    writer.Int(static_cast<int>(::getpid()));
    writer.Key("argv");
    writer.StartArray();
    for (const auto& arg : argv) writer.String(arg.c_str(), static_cast<rapidjson::SizeType>(arg.size()));
    writer.EndArray();
    writer.Key("options");
    writer.StartObject();
    for (const auto& [key, value] : options) {
        writer.Key(key.c_str());
        writer.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
    }
    writer.EndObject();
    writer.EndObject();
    auto path = cbdir / pid_file_name;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << buffer.GetString() << "\n";
    out.close();
    if (!out) return "cannot write " + path.string();
    return {};
}

void remove_pid_file(const fs::path& cbdir) {
    auto path = cbdir / pid_file_name;
    auto text = read_file(path);
    if (!text) return;
    if (auto pid = pid_in(*text); pid && *pid == ::getpid()) {
        std::error_code ec;
        fs::remove(path, ec);
    }
}

extern const std::string_view init_config_json;

std::vector<InitFile> init_template() {
    return {
        {fs::path(".crossbar") / "config.json", std::string(init_config_json)},
        {"README.md",
         "Generated by `blindrouter init`.\n\n"
         "The node directory is `.crossbar/`; its `config.json` is a Crossbar.io node configuration that both\n"
         "blindrouter and Crossbar.io start:\n\n"
         "* `ws://127.0.0.1:8080/ws`: WAMP over WebSocket, realm `realm1`, anonymous, everything allowed\n"
         "* `rs://127.0.0.1:8081`: WAMP over RawSocket, the same realm\n\n"
         "Start it with `blindrouter start --cbdir .crossbar`; check it with `blindrouter check --cbdir .crossbar`.\n"},
    };
}

}  // namespace blindrouter::app
