// The plugin's reading of the "conditioning" metadata (Plugin/ModelInfo.cpp, JUCE-free, compiled in here):
// knob ranges are informational, so bad entries fall back to 0..1 with a warning; never undefined behaviour.
#include "Model/Weights.h"
#include "ModelInfo.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

using namespace mfx;
using mfx::plugin::CondSpec;

namespace {

std::vector<CondSpec> conditioning(const std::string& json, std::string& warning) {
    Model m;
    m.config.nCond = 1;
    m.metadata[meta::conditioning] = json;
    warning.clear();
    return plugin::parseConditioning(m, warning);
}

} // namespace

TEST_CASE("conditioning metadata: a well-formed entry is read as given", "[model-file]") {
    std::string warning;
    const auto specs = conditioning(R"([{"name":"drive","min":-2,"max":10,"default":3.5}])", warning);
    REQUIRE(specs.size() == 1);
    CHECK(specs[0].name == "drive");
    CHECK(specs[0].min == -2.0f);
    CHECK(specs[0].max == 10.0f);
    CHECK(specs[0].def == 3.5f);
    CHECK(warning.empty());
}

// Found by review: get<float>() on 1e300 is an out-of-range conversion (undefined behaviour).
TEST_CASE("conditioning metadata: numbers beyond the float range are not converted to float", "[model-file]") {
    std::string warning;
    auto specs = conditioning(R"([{"name":"a","min":-1e300,"max":4}])", warning);
    CHECK(specs[0].min == 0.0f); // the fallback, as for a missing min
    CHECK(specs[0].max == 4.0f);
    CHECK_THAT(warning, Catch::Contains("entry 1 has min -1e+300, beyond the float range"));

    specs = conditioning(R"([{"name":"a","min":1,"max":1e300}])", warning);
    CHECK(specs[0].min == 0.0f); // max falls back to 1, so max <= min: 0..1
    CHECK(specs[0].max == 1.0f);
    CHECK_THAT(warning, Catch::Contains("max <= min"));

    specs = conditioning(R"([{"name":"a","min":-3e38,"max":3e38}])", warning); // each fits, the span does not
    CHECK(specs[0].min == 0.0f);
    CHECK(specs[0].max == 1.0f);
    CHECK_THAT(warning, Catch::Contains("range too wide"));

    specs = conditioning(R"([{"name":"a","min":0,"max":2,"default":1e300}])", warning); // clamped into the range
    CHECK(specs[0].def == 2.0f);
    specs = conditioning(R"([{"name":"a","min":0,"max":2,"default":-1e300}])", warning);
    CHECK(specs[0].def == 0.0f);
    for (const auto& s : specs) CHECK(std::isfinite(s.fromNormalised(1.0f)));
}
