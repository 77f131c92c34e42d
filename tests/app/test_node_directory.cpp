#include <boost/test/unit_test.hpp>
#include <rapidjson/document.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "node_directory.hpp"
#include "temp_dir.hpp"

using namespace blindrouter::app;
namespace fs = std::filesystem;

namespace {

void write(const fs::path& path, const std::string& text) { std::ofstream(path) << text; }

// A process that has exited: forked, reaped, its pid now free (or reused by something
// that is not a router).
pid_t exited_pid() {
    pid_t child = fork();
    if (child == 0) _exit(0);
    waitpid(child, nullptr, 0);
    return child;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(node_directory)

BOOST_AUTO_TEST_CASE(pid_file_has_crossbars_shape) {
    TempDir dir;
    BOOST_TEST(write_pid_file(dir.path, {"blindrouter", "start"}, {{"loglevel", "info"}}).empty());
    std::ifstream in(dir.path / pid_file_name);
    std::ostringstream text;
    text << in.rdbuf();
    rapidjson::Document doc;
    doc.Parse(text.str().c_str());
    BOOST_REQUIRE(!doc.HasParseError());
    BOOST_TEST(doc["pid"].GetInt() == getpid());
    BOOST_TEST(doc["argv"].Size() == 2u);
    BOOST_TEST(std::string(doc["options"]["loglevel"].GetString()) == "info");
    BOOST_TEST(text.str().find("\n    \"pid\"") != std::string::npos);  // indented by 4, as Crossbar
    remove_pid_file(dir.path);
    BOOST_TEST(!fs::exists(dir.path / pid_file_name));
}

BOOST_AUTO_TEST_CASE(own_pid_is_not_a_running_node) {
    TempDir dir;
    write_pid_file(dir.path, {}, {});
    std::vector<std::string> notes;
    BOOST_TEST(!running_node(dir.path, notes).has_value());
    BOOST_TEST(fs::exists(dir.path / pid_file_name));
}

BOOST_AUTO_TEST_CASE(stale_and_corrupt_pid_files_are_removed) {
    TempDir dir;
    write(dir.path / pid_file_name, "{\"pid\": " + std::to_string(exited_pid()) + "}");
    std::vector<std::string> notes;
    BOOST_TEST(!running_node(dir.path, notes).has_value());
    BOOST_TEST(!fs::exists(dir.path / pid_file_name));
    BOOST_REQUIRE(notes.size() == 1u);
    BOOST_TEST(notes[0].rfind("Stale PID file (pointing to non-existing process with PID", 0) == 0u);

    write(dir.path / pid_file_name, "not json");
    notes.clear();
    BOOST_TEST(!running_node(dir.path, notes).has_value());
    BOOST_TEST(!fs::exists(dir.path / pid_file_name));
    BOOST_TEST(notes.at(0).rfind("Corrupt PID file (corrupt .pid file)", 0) == 0u);
}

BOOST_AUTO_TEST_CASE(a_live_process_that_is_no_router_does_not_count_and_is_left_alone) {
    TempDir dir;
    pid_t child = fork();  // runs as "unit_tests", not as a router
    if (child == 0) {
        pause();
        _exit(0);
    }
    write(dir.path / pid_file_name, "{\"pid\": \"" + std::to_string(child) + "\"}");
    std::vector<std::string> notes;
    BOOST_TEST(!running_node(dir.path, notes).has_value());
    BOOST_TEST(fs::exists(dir.path / pid_file_name));
    BOOST_TEST(notes.size() == 1u);
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
}

BOOST_AUTO_TEST_CASE(a_zombie_is_not_alive) {
    pid_t child = fork();
    if (child == 0) _exit(0);
    BOOST_TEST(process_alive(getpid()));
    for (int i = 0; i < 200 && process_alive(child); ++i) usleep(10000);
    BOOST_TEST(!process_alive(child));  // exited, not reaped yet
    waitpid(child, nullptr, 0);
}

BOOST_AUTO_TEST_CASE(init_template_is_a_node_directory) {
    auto files = init_template();
    BOOST_REQUIRE(!files.empty());
    BOOST_TEST(files[0].relative_path == fs::path(".crossbar") / "config.json");
    rapidjson::Document doc;
    doc.Parse(files[0].content.c_str());
    BOOST_REQUIRE(!doc.HasParseError());
    BOOST_TEST(doc["version"].GetInt() == 2);
}

BOOST_AUTO_TEST_SUITE_END()
