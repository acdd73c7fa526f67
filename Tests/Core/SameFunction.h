#pragma once
// For the function-preserving growth tests (TrainDeepenTest, TrainWidenTest): `grown` computes
// exactly what `trained` does, in the float64 reference and in the real-time engine, bit for bit.
#include "TestSignals.h"

#include <Engine/RealtimeEngine.h>
#include <Reference/Reference.h>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <vector>

namespace mfx::test {

inline void checkSameFunction(const Model& trained, const Model& grown, std::uint64_t seed) {
    const std::vector<float> in = mixedSignal(3000, seed);
    ReferenceState s0(trained.config), s1(grown.config);
    CHECK(referenceForward(trained, in.data(), nullptr, in.size(), s0) ==
          referenceForward(grown, in.data(), nullptr, in.size(), s1));
    std::vector<float> o0(in.size()), o1(in.size());
    RealtimeEngine e0(trained, 1), e1(grown, 1);
    e0.process(in.data(), o0.data(), static_cast<int>(in.size()));
    e1.process(in.data(), o1.data(), static_cast<int>(in.size()));
    CHECK(bitwiseEqual(o0, o1));
    // and that function is not trivially the same (all zeros or not finite)
    bool finite = true, nonZero = false;
    for (float v : o0) {
        finite &= std::isfinite(v);
        nonZero |= v != 0.0f;
    }
    CHECK(finite);
    CHECK(nonZero);
}

} // namespace mfx::test
