// train::widenedState (Source/Train/Deepen.h): the model with more SSM states computes exactly what
// the trained one did, keeps every trained value, gives the new states the reference init with C at
// zero, and the new C rows get a non-zero gradient (so training can use them).
#include "SameFunction.h"
#include "TestSignals.h"

#include <Engine/RealtimeEngine.h>
#include <Model/ModelError.h>
#include <Model/RandomModel.h>
#include <Reference/Reference.h>
#include <Train/Deepen.h>
#include <Train/Loss.h>
#include <Train/Params.h>
#include <Train/Tape.h>

#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

using namespace mfx;

namespace {

// d(ESR)/d(parameters) of m on in -> tanh(2 in), float64 tape, no warm-up.
std::vector<double> gradient(const Model& m, const std::vector<float>& in) {
    std::vector<float> target(in.size());
    for (std::size_t t = 0; t < in.size(); ++t) target[t] = static_cast<float>(std::tanh(2.0 * in[t]));
    train::PreparedParams<double> pp(m.config);
    pp.set(train::flatten(m));
    train::SegmentPass<double> pass(m.config);
    const train::LossOptions o;
    std::vector<double> y(in.size()), gy(in.size()), grad(pp.layout.total, 0.0);
    pass.forward(pp, in.data(), nullptr, in.size(), y.data());
    const double den = train::lossDenominator(target.data(), in.size(), 0, o);
    train::lossNumeratorAndGrad(y.data(), target.data(), in.size(), 0, den, o, gy.data());
    pass.backward(pp, gy.data(), grad.data());
    return grad;
}

} // namespace

TEST_CASE("widening the state keeps the trained values and the output, bit for bit", "[train]") {
    for (std::uint64_t seed : {5u, 17u, 31u}) {
        Config c = test::randomConfig(seed);
        c.nCond = 0;
        InitOptions strong;
        strong.scale = 2.0; // "trained-like": every state matters
        const Model trained = randomModel(c, seed, strong);
        for (int extra : {1, 4}) {
            const int N0 = c.dState, N = c.dState + extra;
            INFO("seed " << seed << ", dState " << N0 << " -> " << N);
            std::string note;
            const Model m = train::widenedState(trained, N, 41, &note);
            REQUIRE(m.config.dState == N);
            Config back = m.config;
            back.dState = N0;
            CHECK(back.toJson() == c.toJson());
            m.validate();
            CHECK(note == "widened from dState " + std::to_string(N0) + " to " + std::to_string(N) +
                              " (new states: reference init, C at zero)");
            Config wide = c;
            wide.dState = N;
            const Model init = randomModel(wide, 41);
            const auto P = static_cast<std::size_t>(c.dInner()), R = static_cast<std::size_t>(c.dtRank);
            for (std::size_t l = 0; l < m.weights.layers.size(); ++l) {
                const LayerWeights& w = m.weights.layers[l];
                const LayerWeights& t = trained.weights.layers[l];
                const LayerWeights& f = init.weights.layers[l];
                REQUIRE(w.xProj.size() == (R + 2 * static_cast<std::size_t>(N)) * P);
                REQUIRE(w.ALog.size() == P * static_cast<std::size_t>(N));
                bool dtSame = true, bSame = true, cSame = true, cZero = true, aSame = true;
                for (std::size_t i = 0; i < P; ++i) {
                    for (std::size_t r = 0; r < R; ++r) dtSame &= w.xProj[r * P + i] == t.xProj[r * P + i];
                    for (std::size_t n = 0; n < static_cast<std::size_t>(N); ++n) {
                        const float b = w.xProj[(R + n) * P + i], cc = w.xProj[(R + N + n) * P + i];
                        const float a = w.ALog[i * N + n];
                        if (n < static_cast<std::size_t>(N0)) {
                            bSame &= b == t.xProj[(R + n) * P + i];
                            cSame &= cc == t.xProj[(R + N0 + n) * P + i];
                            aSame &= a == t.ALog[i * N0 + n];
                        } else {
                            bSame &= b == f.xProj[(R + n) * P + i];
                            cZero &= cc == 0.0f;
                            aSame &= a == f.ALog[i * N + n] && a == static_cast<float>(std::log(n + 1.0));
                        }
                    }
                }
                CHECK(dtSame);
                CHECK(bSame);
                CHECK(cSame);
                CHECK(cZero);
                CHECK(aSame);
                CHECK(w.inProj == t.inProj);
                CHECK(w.dtProjWeight == t.dtProjWeight);
                CHECK(w.dtProjBias == t.dtProjBias);
                CHECK(w.outProj == t.outProj);
            }
            // the same function: float64 reference and real-time engine, bit for bit (the new
            // states' C is zero, so C h gains exact zeros)
            test::checkSameFunction(trained, m, seed);
            const std::vector<float> in = test::mixedSignal(3000, seed);
            // the new C rows learn: their gradient is non-zero in every layer
            const std::vector<float> shortIn(in.begin(), in.begin() + 256);
            const std::vector<double> g = gradient(m, shortIn);
            const train::ParamLayout layout(m.config);
            for (int l = 0; l < m.config.nLayers; ++l) {
                const auto& slot = layout.slot("layers." + std::to_string(l) + ".mixer.x_proj.weight");
                double newC = 0;
                for (std::size_t n = static_cast<std::size_t>(N0); n < static_cast<std::size_t>(N); ++n)
                    for (std::size_t i = 0; i < P; ++i) newC = std::max(newC, std::fabs(g[slot.offset + (R + N + n) * P + i]));
                INFO("layer " << l);
                CHECK(newC > 1e-6);
            }
        }
        std::string note = "x";
        CHECK(train::widenedState(trained, c.dState, 1, &note).config.dState == c.dState);
        CHECK(note.empty());
        CHECK_THROWS_WITH(train::widenedState(trained, c.dState - 1, 1),
                          Catch::Contains("cannot widen a model of dState " + std::to_string(c.dState)));
    }
}
