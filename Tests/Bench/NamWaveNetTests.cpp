// The NAM WaveNet re-implementation that mfx_nam_bench times (NamWaveNet.h): its block code (this
// executable's build: baseline, or AVX2 + FMA in mfx_bench_tests_avx2) computes the network of its per-sample double reference, for any block size, with the
// history carried across blocks and through the buffer's rewinds; the standard size is 13,801
// parameters, as the amp-capture README states for the model that made its targets.
#include "NamWaveNet.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <random>

using namespace mfx::bench;

namespace {

std::vector<float> signal(std::size_t n, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<float> g(0.0f, 0.3f);
    std::vector<float> v(n);
    for (auto& x : v) x = g(rng);
    return v;
}

double worstError(NamWaveNet& net, const std::vector<float>& in, const std::vector<double>& ref, const std::vector<int>& blocks,
                  double& refPeak) {
    std::vector<float> out(in.size());
    std::size_t t = 0;
    for (std::size_t k = 0; t < in.size(); ++k) {
        const int m = std::min<int>(blocks[k % blocks.size()], static_cast<int>(in.size() - t));
        net.process(in.data() + t, out.data() + t, m);
        t += static_cast<std::size_t>(m);
    }
    double worst = 0;
    refPeak = 0;
    for (std::size_t i = 0; i < in.size(); ++i) {
        worst = std::max(worst, std::fabs(out[i] - ref[i]));
        refPeak = std::max(refPeak, std::fabs(ref[i]));
    }
    return worst;
}

} // namespace

TEST_CASE("NAM standard WaveNet: 13,801 parameters, two arrays of ten layers", "[bench]") {
    const NamWeights w = randomNamWeights(namStandard(), 3);
    CHECK(w.parameterCount() == 13801);
    REQUIRE(w.arrays.size() == 2);
    CHECK(w.arrays[0].layers.size() == 10);
    CHECK(w.arrays[1].layers.size() == 10);
}

TEST_CASE("NAM WaveNet block code equals its per-sample reference, any block size, across buffer rewinds", "[bench]") {
    // a small configuration with the standard's structure, so the double reference is quick; its
    // dilations reach past blocks, and over 40,000 samples its history buffers (16,384 columns past
    // the kept history at maxBlock 4096) are rewound two or three times, depending on the blocks
    std::vector<NamArrayConfig> small{{1, 1, 6, 4, 3, {1, 2, 8, 64, 300}, false}, {6, 1, 4, 1, 3, {1, 4, 32, 511}, true}};
    for (const auto& config : {small, namStandard()}) {
        const std::size_t n = config.front().channels == 16 ? 6000 : 40000;
        const NamWeights w = randomNamWeights(config, 11);
        const std::vector<float> in = signal(n, 5);
        const std::vector<double> ref = namNaive(w, in);
        for (const auto& blocks : std::vector<std::vector<int>>{{1}, {64}, {37, 512, 5}, {4096}}) {
            auto net = makeNamBlock(w, 4096);
            if (!net) {
                WARN("this CPU lacks the instructions of the NAM " << kNamBuildName << ": not tested here");
                return;
            }
            double peak = 0;
            const double worst = worstError(*net, in, ref, blocks, peak);
            INFO(kNamBuildName << ", channels " << config.front().channels << ", first block " << blocks[0] << ": worst " << worst
                                << " of peak " << peak);
            CHECK(peak > 1e-3);                 // the network does something
            CHECK(worst <= 2e-6 * peak + 1e-8); // float32 against double (measured: 2e-7 of the peak)
            // reset() returns to the zero history: the same output again
            net->reset();
            double peak2 = 0;
            CHECK(worstError(*net, in, ref, blocks, peak2) == Approx(worst).margin(1e-12));
        }
    }
}
