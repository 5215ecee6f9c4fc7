#include "app/mutation.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <iostream>

namespace wpsim::app {

ChildResult RunInChild(const std::function<void(const std::function<void(std::string_view)>& emit)>& body) {
  ChildResult result;
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  int fds[2];
  if (pipe(fds) != 0) {
    result.crashed = true;
    result.exit_code = -1;
    return result;
  }
  const pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    result.crashed = true;
    result.exit_code = -1;
    return result;
  }
  if (pid == 0) {
    close(fds[0]);
    const int out = fds[1];
    body([out](std::string_view bytes) {
      while (!bytes.empty()) {
        const ssize_t n = write(out, bytes.data(), bytes.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) _exit(3);  // the parent is gone
        bytes.remove_prefix(static_cast<size_t>(n));
      }
    });
    std::cout.flush();
    std::cerr.flush();
    std::fflush(nullptr);
    _exit(0);
  }
  close(fds[1]);
  char buffer[4096];
  for (;;) {
    const ssize_t n = read(fds[0], buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    result.output.append(buffer, static_cast<size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status)) {
    result.crashed = true;
    result.signal = WTERMSIG(status);
  } else if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
    result.crashed = result.exit_code != 0;
  }
  return result;
}

MutationOutcome JudgeMutation(std::span<const reports::Outcome> baseline,
                              std::span<const reports::Outcome> now, bool crashed) {
  MutationOutcome out;
  for (size_t i = 0; i < now.size() && i < baseline.size(); ++i) {
    if (baseline[i] != reports::Outcome::kPass) continue;
    if (now[i] == reports::Outcome::kFail) out.killers.push_back(i);
    if (now[i] == reports::Outcome::kError) out.errored.push_back(i);
  }
  if (!out.killers.empty()) {
    out.verdict = MutationVerdict::kKilled;
  } else if (crashed) {
    out.verdict = MutationVerdict::kCrashed;
  } else if (!out.errored.empty()) {
    out.verdict = MutationVerdict::kErrored;
  } else {
    out.verdict = MutationVerdict::kSurvived;
  }
  return out;
}

}  // namespace wpsim::app
