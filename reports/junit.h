// JUnit XML writer, in the dialect Jenkins, GitLab, GitHub test reporters and Azure Pipelines
// read (the Jenkins xUnit "junit-10" schema; tests/data/reports/junit.xsd validates it).
//
// Mapping: one <testsuite> per scenario file (in order of first appearance), one <testcase> per
// scenario; a scenario with several case IDs gives one <testcase> per case ID instead, plus one
// for the scenario itself when some failure is not tied to a case (a broken threshold, an
// error). Failures carry expected vs actual, the seed and trace hash, and the reproduce command;
// skipped scenarios carry their reason. Times are seconds in the run's clock (virtual on sim).
#pragma once

#include <string>

#include "reports/model.h"

namespace wpsim::reports {

std::string WriteJunitXml(const RunReport& report);

}  // namespace wpsim::reports
