// The bad-input catalogue over real sockets (issue 20): the cases of tests/data/bad-inputs/*.tsv
// against a fresh `wpsim serve` process per case on 127.0.0.1 (the runner and its vocabulary:
// tests/service/bad_inputs.h), with a bystander on another hub that must lose nothing, and the
// process still running afterwards. make test runs every third case and every protobuf case
// (`Sockets/BadInputsOverSockets.*`); WPSIM_BAD_INPUTS_OVER_SOCKETS=all when the binary lists
// or runs its tests makes it every case:
//   WPSIM_BAD_INPUTS_OVER_SOCKETS=all build/bin/wpsim_service_uv_tests --gtest_filter='Sockets/*'
// The service runs with --request-read-timeout 2 and --http-idle-timeout 3, so the deadline
// cases (408 after a half-sent request, a silent connection closed) answer within seconds.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "sim/uv/uv_runtime.h"
#include "tests/service/bad_inputs.h"

namespace wpsim::service::bad_inputs {
namespace {

std::vector<size_t> SelectedCases() {
  const char* env = std::getenv("WPSIM_BAD_INPUTS_OVER_SOCKETS");
  const bool all = env != nullptr && std::string(env) == "all";
  std::vector<size_t> out;
  for (size_t i = 0; i < Catalogue().size(); ++i) {
    if (all || i % 3 == 0 || Catalogue()[i].file == "protobuf") out.push_back(i);
  }
  return out;
}

// `wpsim serve` on 127.0.0.1:0 as a child process; its output goes to a file, where the port
// is read from the connection string it prints.
class ServeProcess {
 public:
  ServeProcess() {
    char path[] = "/tmp/wpsim-bad-inputs-serve-XXXXXX";
    const int fd = mkstemp(path);
    if (fd < 0) return;
    log_ = path;
    const std::string binary = std::string(WPSIM_BINARY_DIR) + "/bin/wpsim";
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
      close(fd);
      execl(binary.c_str(), binary.c_str(), "serve", "--listen", "127.0.0.1:0", "--log-level",
            "error", "--request-read-timeout", "2", "--http-idle-timeout", "3",
            static_cast<char*>(nullptr));
      _exit(127);
    }
    close(fd);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    const std::regex port_re("Port=([0-9]+);");
    while (std::chrono::steady_clock::now() < deadline && port_ == 0 && Alive()) {
      std::smatch m;
      const std::string out = Output();
      if (std::regex_search(out, m, port_re)) {
        port_ = static_cast<uint16_t>(std::stoi(m[1]));
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  ~ServeProcess() {
    if (pid_ > 0 && Alive()) {
      kill(pid_, SIGTERM);
      int status = 0;
      waitpid(pid_, &status, 0);
    }
    if (!log_.empty()) unlink(log_.c_str());
  }
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;

  uint16_t port() const { return port_; }
  bool Alive() {
    if (exited_) return false;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      exited_ = true;
      status_ = status;
      return false;
    }
    return true;
  }
  std::string Output() const {
    std::ifstream in(log_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  int status() const { return status_; }

 private:
  pid_t pid_ = -1;
  std::string log_;
  uint16_t port_ = 0;
  bool exited_ = false;
  int status_ = 0;
};

class BadInputsOverSockets : public ::testing::TestWithParam<size_t> {
 protected:
  void SetUp() override {
    serve_ = std::make_unique<ServeProcess>();
    ASSERT_NE(serve_->port(), 0) << "wpsim serve did not start:\n" << serve_->Output();
    sim::UvRuntimeOptions ro;
    ro.seed = 20;
    runtime_ = std::make_unique<sim::UvRuntime>(ro);
    Target t;
    t.client = runtime_.get();
    t.bystander = runtime_.get();
    t.service = sim::Address{"127.0.0.1", serve_->port()};
    t.bystander_cs.scheme = "http";
    t.bystander_cs.host = "127.0.0.1";
    t.bystander_cs.port = serve_->port();
    t.bystander_cs.access_key = std::string(kDefaultAccessKey);
    t.run = [this](const std::function<bool()>& done, sim::Nanos cap) {
      runtime_->RunUntil(done, cap);
      return true;
    };
    t.exact_waits = false;
    t.open_watch = 500 * sim::kMillisecond;
    runner_ = std::make_unique<CaseRunner>(std::move(t));
    ASSERT_TRUE(runner_->StartBystander());
  }
  void TearDown() override {
    runner_.reset();
    if (runtime_) runtime_->RunFor(20 * sim::kMillisecond);
    runtime_.reset();
    serve_.reset();
  }

  std::unique_ptr<ServeProcess> serve_;
  std::unique_ptr<sim::UvRuntime> runtime_;
  std::unique_ptr<CaseRunner> runner_;
};

TEST_P(BadInputsOverSockets, AnswersAsCataloguedAndTheBystanderLosesNothing) {
  const BadInput& c = Catalogue()[GetParam()];
  SCOPED_TRACE(c.file + ".tsv:" + std::to_string(c.line) + " " + c.name);
  EXPECT_EQ(runner_->Observe(c), c.expected);
  runner_->CheckBystander();
  EXPECT_TRUE(serve_->Alive()) << "wpsim serve ended (status " << serve_->status() << "):\n"
                               << serve_->Output();
}

INSTANTIATE_TEST_SUITE_P(Sockets, BadInputsOverSockets, ::testing::ValuesIn(SelectedCases()),
                         [](const ::testing::TestParamInfo<size_t>& param) {
                           return CaseName(Catalogue()[param.param]);
                         });

}  // namespace
}  // namespace wpsim::service::bad_inputs
