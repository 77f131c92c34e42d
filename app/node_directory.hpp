#pragma once
// The node directory as Crossbar keeps it (crossbar/node/main.py): the pid file
// CBDIR/node.pid that `start` writes and `stop` and `status` read, and what `init` creates.
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <sys/types.h>

namespace blindrouter::app {

inline constexpr const char* pid_file_name = "node.pid";

// The pid of the router running from `cbdir`, or nullopt. As Crossbar's
// _check_is_running: a corrupt pid file, or one naming a process that no longer exists,
// is removed (and a line about it added to `notes`); a pid file naming a live process
// that is neither a blindrouter nor a Crossbar.io is left alone and does not count;
// our own pid does not count (a container restarted uncleanly reuses pids).
std::optional<pid_t> running_node(const std::filesystem::path& cbdir, std::vector<std::string>& notes);

// Writes CBDIR/node.pid in Crossbar's shape: {"pid", "argv", "options"}, indented by 4.
// Returns an error text, empty on success.
std::string write_pid_file(const std::filesystem::path& cbdir, const std::vector<std::string>& argv,
                           const std::vector<std::pair<std::string, std::string>>& options);

// Removes CBDIR/node.pid if it names this process.
void remove_pid_file(const std::filesystem::path& cbdir);

// Whether `pid` is still a process (a zombie is not: it has exited, its parent has not
// reaped it yet).
bool process_alive(pid_t pid);

// The files of a new node directory, as `crossbar init` lays them out from its
// "default" template: APPDIR/.crossbar/config.json, APPDIR/README.md, APPDIR/web/README.md.
struct InitFile {
    std::filesystem::path relative_path;
    std::string content;
};
std::vector<InitFile> init_template();

}  // namespace blindrouter::app
