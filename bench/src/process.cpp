#include "process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace bench {

namespace {

std::uint64_t status_kib(const std::string& status, std::string_view key) {
    auto at = status.find(key);
    if (at == std::string::npos) return 0;
    return std::strtoull(status.c_str() + at + key.size(), nullptr, 10);
}

double stat_cpu_seconds(const std::string& stat) {
    // Fields after the command name, which may hold spaces: it ends at the last ')'.
    auto close = stat.rfind(')');
    if (close == std::string::npos) return 0;
    std::istringstream fields(stat.substr(close + 2));
    std::string field;
    unsigned long long utime = 0, stime = 0;
    // state is field 3; utime and stime are fields 14 and 15 (proc(5)).
    for (int index = 3; index <= 15 && fields >> field; ++index) {
        if (index == 14) utime = std::stoull(field);
        if (index == 15) stime = std::stoull(field);
    }
    return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace

std::optional<ProcessSample> sample_process(pid_t pid) {
    auto base = "/proc/" + std::to_string(pid);
    auto stat = read_file(base + "/stat");
    auto status = read_file(base + "/status");
    if (stat.empty() || status.empty()) return std::nullopt;
    ProcessSample s;
    s.cpu_seconds = stat_cpu_seconds(stat);
    s.rss_bytes = status_kib(status, "VmRSS:") * 1024;
    s.peak_rss_bytes = status_kib(status, "VmHWM:") * 1024;
    std::error_code ec;
    for (auto it = std::filesystem::directory_iterator(base + "/fd", ec); !ec && it != std::filesystem::directory_iterator();
         it.increment(ec))
        ++s.open_fds;
    return s;
}

double own_cpu_seconds() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

ChildProcess::ChildProcess(std::vector<std::string> argv, const std::filesystem::path& log,
                           std::vector<std::string> extra_environment) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    std::vector<std::string> environment_strings(std::move(extra_environment));
    for (char** e = environ; *e; ++e) environment_strings.emplace_back(*e);
    std::vector<char*> environment;
    for (auto& e : environment_strings) environment.push_back(e.data());
    environment.push_back(nullptr);
    int rc = posix_spawnp(&pid_, args[0], &actions, nullptr, args.data(), environment.data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
}

ChildProcess::~ChildProcess() {
    if (!status_) stop(std::chrono::milliseconds(2000));
}

bool ChildProcess::running() {
    if (status_) return false;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
        status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return false;
    }
    return true;
}

int ChildProcess::stop(std::chrono::milliseconds grace, int signal) {
    if (!running()) return *status_;
    kill(pid_, signal);
    auto deadline = std::chrono::steady_clock::now() + grace;
    while (running()) {
        if (std::chrono::steady_clock::now() > deadline) {
            kill(pid_, SIGKILL);
            int status = 0;
            waitpid(pid_, &status, 0);
            status_ = 128 + SIGKILL;
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return *status_;
}

namespace {

// Whether binding 127.0.0.1:port succeeds now (port 0: the kernel's choice, returned in
// *bound). No SO_REUSEADDR, so a port still in TIME_WAIT counts as taken.
bool bind_loopback(int port, int* bound) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return false;
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    socklen_t size = sizeof address;
    bool ok = bind(fd, reinterpret_cast<sockaddr*>(&address), size) == 0 &&
              getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) == 0;
    close(fd);
    if (ok) *bound = ntohs(address.sin_port);
    return ok;
}

int ephemeral_low() {
    std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
    int low = 0;
    return (range >> low) ? low : 32768;
}

}  // namespace

// From below the kernel's ephemeral range, as harness/ports.py does and for the same
// reason: a port read back from port 0 may be taken by any outgoing connection before
// the router binds it. A random start, then a walk, so no port is handed out twice.
int free_port() {
    static std::mutex lock;
    static std::optional<int> next;
    constexpr int span = 16384, lowest = 1024;
    int high = ephemeral_low();
    int low = std::max(lowest, high - span);
    int bound = 0;
    if (high - low < 1024) {
        if (!bind_loopback(0, &bound)) throw std::runtime_error("no free TCP port on 127.0.0.1");
        return bound;
    }
    std::lock_guard guard(lock);
    if (!next) next = static_cast<int>(std::random_device{}() % static_cast<unsigned>(high - low));
    for (int tried = 0; tried < high - low; ++tried) {
        int port = low + (*next)++ % (high - low);
        if (bind_loopback(port, &bound)) return port;
    }
    throw std::runtime_error("no free TCP port on 127.0.0.1 below the ephemeral range");
}

bool wait_until_listening(int port, std::chrono::milliseconds timeout, ChildProcess* process) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (process && !process->running()) return false;
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        address.sin_port = htons(static_cast<std::uint16_t>(port));
        bool ok = connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
        close(fd);
        if (ok) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

std::uint64_t raise_open_file_limit() {
    rlimit limit{};
    getrlimit(RLIMIT_NOFILE, &limit);
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
    getrlimit(RLIMIT_NOFILE, &limit);
    return limit.rlim_cur;
}

}  // namespace bench
