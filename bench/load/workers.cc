#include "bench/load/workers.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <vector>

#include "bench/load/driver.h"

namespace wpsim::load {
namespace {

uint32_t Share(uint32_t total, uint32_t index, uint32_t count) {
  return total / count + (index < total % count ? 1 : 0);
}

bool WriteAll(int fd, const std::string& text) {
  size_t off = 0;
  while (off < text.size()) {
    const ssize_t n = write(fd, text.data() + off, text.size() - off);
    if (n > 0) {
      off += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      return false;
    }
  }
  return true;
}

std::string ReadAll(int fd) {
  std::string out;
  char buf[65536];
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      return out;
    }
  }
}

}  // namespace

Options ShardOptions(const Options& whole, uint32_t index, uint32_t count) {
  Options o = whole;
  o.shard_index = index;
  o.shard_count = count;
  o.subscribers = Share(whole.subscribers, index, count);
  o.publishers = std::max<uint32_t>(1, Share(whole.publishers, index, count));
  return o;
}

Result<reports::LoadReport> RunWorkers(const Options& o, const Target& t, SubKind sub, PubKind pub, uint32_t workers,
                                       FILE* worker_lines) {
  struct Worker {
    pid_t pid = -1;
    int ready = -1, go = -1, result = -1;
  };
  std::vector<Worker> ws(workers);
  for (uint32_t i = 0; i < workers; ++i) {
    int ready[2], go[2], result[2];
    if (pipe2(ready, O_CLOEXEC) != 0 || pipe2(go, O_CLOEXEC) != 0 || pipe2(result, O_CLOEXEC) != 0) {
      return MakeError("load", std::string("pipe: ") + strerror(errno));
    }
    fflush(stdout);
    const pid_t pid = fork();
    if (pid < 0) {
      return MakeError("load", std::string("fork: ") + strerror(errno));
    }
    if (pid == 0) {
      for (uint32_t j = 0; j < i; ++j) {
        close(ws[j].ready);
        close(ws[j].go);
        close(ws[j].result);
      }
      close(ready[0]);
      close(go[1]);
      close(result[0]);
      Options wo = ShardOptions(o, i, workers);
      wo.inflight = std::max<uint32_t>(1, (o.inflight + workers - 1) / workers);
      wo.ready_fd = ready[1];
      wo.go_fd = go[0];
      wo.label = (o.label.empty() ? "" : o.label + ", ") + "worker " + std::to_string(i) + "/" + std::to_string(workers);
      Driver driver(std::move(wo), t, sub, pub);
      const reports::LoadReport r = driver.Run();
      const bool ok = WriteAll(result[1], reports::LoadReportToJson(r).dump());
      _exit(ok && r.ok() ? 0 : 1);
    }
    close(ready[1]);
    close(go[0]);
    close(result[1]);
    ws[i] = Worker{pid, ready[0], go[1], result[0]};
  }
  // The barrier: one byte from every worker, then the common start instant to all.
  bool all_ready = true;
  const int64_t deadline = NowNs() + static_cast<int64_t>(o.timeout_s * 1e9);
  for (Worker& w : ws) {
    pollfd p{w.ready, POLLIN, 0};
    const int64_t left_ms = (deadline - NowNs()) / 1'000'000;
    char byte = 0;
    if (left_ms <= 0 || poll(&p, 1, static_cast<int>(left_ms)) != 1 || read(w.ready, &byte, 1) != 1) {
      all_ready = false;
      break;
    }
  }
  if (all_ready) {
    const int64_t start = NowNs() + int64_t{o.settle_ms} * 1'000'000;
    for (Worker& w : ws) {
      if (write(w.go, &start, sizeof start) != static_cast<ssize_t>(sizeof start)) all_ready = false;
    }
  }
  for (Worker& w : ws) {
    close(w.go);  // a worker still waiting reads end-of-file: "no start"
    close(w.ready);
  }
  std::vector<reports::LoadReport> shards;
  std::string failure;
  for (uint32_t i = 0; i < workers; ++i) {
    const std::string text = ReadAll(ws[i].result);
    close(ws[i].result);
    int status = 0;
    waitpid(ws[i].pid, &status, 0);
    const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    auto r = reports::LoadReportFromJson(j, "worker " + std::to_string(i));
    if (!r.ok()) {
      if (failure.empty()) failure = "worker " + std::to_string(i) + " wrote no report (exit status " + std::to_string(status) + ")";
      continue;
    }
    if (worker_lines != nullptr) fprintf(worker_lines, "%s\n", reports::LoadSummaryLine(*r).c_str());
    shards.push_back(std::move(r).value());
  }
  if (!failure.empty()) return MakeError("load", failure);
  Result<reports::LoadReport> merged = reports::MergeLoadReports(shards);
  if (!merged.ok()) return MakeError("load", "merging the workers: " + merged.error().message);
  merged->label = o.label;
  return merged;
}


}  // namespace wpsim::load
