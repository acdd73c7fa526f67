// EngineSlot keeps every conditioning value it is given, for the engines it holds now and the ones
// it picks up later, whatever their nCond: a model with more inputs than the last one gets the
// values set for them (and 0 for inputs never set).
#include "TestSignals.h"

#include "Engine/EngineSlot.h"
#include "Engine/RealtimeEngine.h"
#include "Model/RandomModel.h"

#include <catch2/catch.hpp>

using namespace mfx;

namespace {

Model condModel(int nCond, std::uint64_t seed) {
    Config c;
    c.dModel = 8; c.nLayers = 1; c.dState = 4; c.dConv = 4; c.expand = 2; c.dtRank = 1; c.nCond = nCond;
    return randomModel(c, seed);
}

// `model` with `values` held, over `in`, from a fresh state.
std::vector<float> direct(const Model& model, const std::vector<float>& values, const std::vector<float>& in) {
    RealtimeEngine e(model, 1);
    e.setConditioning(values.data());
    std::vector<float> out(in.size());
    e.process(in.data(), out.data(), static_cast<int>(in.size()));
    return out;
}

// Publishes `model` and processes `in` through the slot; the first block picks the engine up.
std::vector<float> throughSlot(EngineSlot& slot, const Model& model, const std::vector<float>& in) {
    auto next = std::make_unique<RealtimeEngine>(model, 1);
    REQUIRE(slot.publish(next));
    std::vector<float> out(in.size());
    const float* ip = in.data();
    float* op = out.data();
    slot.process(&ip, &op, 1, static_cast<int>(in.size()));
    return out;
}

} // namespace

TEST_CASE("EngineSlot: conditioning values reach engines picked up later, whatever their nCond", "[rt]") {
    const auto in = test::noise(2000, 11, 0.3);
    EngineSlot slot(1, 256);
    const float knobs[3] = {0.7f, -0.4f, 0.25f};
    slot.setConditioning(knobs, 3); // no engine yet: held
    const Model two = condModel(2, 1), three = condModel(3, 3);
    // The first engine (no crossfade: nothing to fade from) gets both of its values.
    CHECK(throughSlot(slot, two, in) == direct(two, {0.7f, -0.4f}, in));
    // A host that sets only the first input later (e.g. a one-input model was loaded meanwhile), then
    // a three-input model: input 0 has the new value, 1 and 2 keep theirs.
    const float first = 0.1f;
    EngineSlot fresh(1, 256);
    fresh.setConditioning(knobs, 3);
    fresh.setConditioning(&first, 1);
    CHECK(throughSlot(fresh, three, in) == direct(three, {0.1f, -0.4f, 0.25f}, in));
    // Inputs never set are 0.
    EngineSlot unset(1, 256);
    unset.setConditioning(&first, 1);
    CHECK(throughSlot(unset, three, in) == direct(three, {0.1f, 0.0f, 0.0f}, in));
}
