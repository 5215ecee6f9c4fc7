// The bad-input catalogue in simulation (tests/service/bad_inputs.h says what a case is): every
// line of tests/data/bad-inputs/*.tsv against a fresh service, one ctest case per line, with a
// bystander client on another hub that must lose nothing and stay open.
#include "tests/service/bad_inputs.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>

#include "service/service.h"
#include "sim/sim_network.h"
#include "sim/sim_runtime.h"

namespace wpsim::service::bad_inputs {
namespace {

class BadInputCatalogue : public ::testing::TestWithParam<size_t> {
 protected:
  void SetUp() override {
    service_host_ = net_.AddHost("service").value();
    client_host_ = net_.AddHost("client").value();
    bystander_host_ = net_.AddHost("bystander").value();
    service_ = std::make_unique<Service>(*service_host_, options_);
    ASSERT_TRUE(service_->Listen(sim::Address{"service", 80}).ok());
    Target t;
    t.client = client_host_;
    t.bystander = bystander_host_;
    t.service = sim::Address{"service", 80};
    t.bystander_cs.scheme = "http";
    t.bystander_cs.host = "service";
    t.bystander_cs.port = 80;
    t.bystander_cs.access_key = std::string(kDefaultAccessKey);
    t.run = [this](const std::function<bool()>&, sim::Nanos cap) { return net_.RunFor(cap).ok(); };
    t.exact_waits = true;
    runner_ = std::make_unique<CaseRunner>(std::move(t));
    ASSERT_TRUE(runner_->StartBystander());
  }
  void TearDown() override { runner_.reset(); }

  ServiceOptions options_;
  sim::SimNetwork net_;
  sim::SimRuntime* service_host_ = nullptr;
  sim::SimRuntime* client_host_ = nullptr;
  sim::SimRuntime* bystander_host_ = nullptr;
  std::unique_ptr<Service> service_;
  std::unique_ptr<CaseRunner> runner_;
};

TEST_P(BadInputCatalogue, AnswersAsCataloguedAndTheBystanderLosesNothing) {
  const BadInput& c = Catalogue()[GetParam()];
  SCOPED_TRACE(c.file + ".tsv:" + std::to_string(c.line) + " " + c.name);
  EXPECT_EQ(runner_->Observe(c), c.expected);
  runner_->CheckBystander();
}

INSTANTIATE_TEST_SUITE_P(Catalogue, BadInputCatalogue,
                         ::testing::Range(size_t{0}, Catalogue().size()),
                         [](const ::testing::TestParamInfo<size_t>& param) {
                           return CaseName(Catalogue()[param.param]);
                         });

TEST(BadInputCatalogueSize, HoldsAtLeastTwoHundredCasesInEveryCategory) {
  std::map<std::string, size_t> per_file;
  for (const BadInput& c : Catalogue()) ++per_file[c.file];
  EXPECT_GE(Catalogue().size(), 200u);
  for (const char* category : {"http", "websocket", "json", "protobuf", "mqtt", "auth", "rest"}) {
    EXPECT_GE(per_file[category], 10u) << category;
  }
}

}  // namespace
}  // namespace wpsim::service::bad_inputs
