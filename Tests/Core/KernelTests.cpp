// The engine's approximations, checked against the C library on dense grids.
#include "Engine/Kernels.h"
#include "Engine/PreparedModel.h"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

using namespace mfx;

TEST_CASE("fast exp stays within 3e-7 relative error over the range the engine uses", "[kernels]") {
    std::vector<float> x, y;
    for (double v = -87.0; v <= 88.0; v += 0.00137) x.push_back(static_cast<float>(v));
    while (x.size() % kLanes) x.push_back(0.0f);
    y.resize(x.size());
    kernels::fastExp(x.data(), y.data(), x.size());
    double worst = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        const double ref = std::exp(static_cast<double>(x[i]));
        worst = std::max(worst, std::abs(y[i] - ref) / ref);
    }
    INFO("target " << kernels::targetName() << ", worst relative error " << worst);
    CHECK(worst < 3e-7);
    // far below the range: tiny but finite and non-negative, never NaN
    std::vector<float> lo(kLanes, -1e30f), out(kLanes);
    kernels::fastExp(lo.data(), out.data(), kLanes);
    for (float v : out) CHECK((std::isfinite(v) && v >= 0.0f && v < 1e-37f));
}

TEST_CASE("SiLU's exp(-v) is fast exp of -v bit for bit, at the clamps too", "[kernels]") {
    std::vector<float> v;
    for (double a = -100.0; a <= 100.0; a += 0.000731) v.push_back(static_cast<float>(a));
    for (float e : {87.3f, -88.0f, 0.0f, -0.0f, 1e-30f, -1e-30f, 1e30f, -1e30f})
        for (float w : {std::nextafter(e, -1e38f), e, std::nextafter(e, 1e38f)}) v.push_back(w);
    while (v.size() % kLanes) v.push_back(0.5f);
    std::vector<float> neg(v.size()), want(v.size()), got(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) neg[i] = -v[i];
    kernels::fastExp(neg.data(), want.data(), v.size());
    kernels::fastExpNeg(v.data(), got.data(), v.size());
    std::size_t differ = 0;
    for (std::size_t i = 0; i < v.size(); ++i)
        if (std::memcmp(&want[i], &got[i], sizeof(float)) != 0 && ++differ <= 5) UNSCOPED_INFO("v " << v[i] << ": " << want[i] << " vs " << got[i]);
    INFO("target " << kernels::targetName() << ", " << v.size() << " inputs");
    CHECK(differ == 0);
}

TEST_CASE("fast exp2 (the scan's exp(dt A) = 2^(dt A log2 e)) stays within 3e-7 relative error", "[kernels]") {
    std::vector<float> y, out;
    for (double v = -125.0; v <= 127.0; v += 0.00213) y.push_back(static_cast<float>(v));
    while (y.size() % kLanes) y.push_back(0.0f);
    out.resize(y.size());
    kernels::fastExp2(y.data(), out.data(), y.size());
    double worst = 0;
    for (std::size_t i = 0; i < y.size(); ++i) {
        const double ref = std::exp2(static_cast<double>(y[i]));
        worst = std::max(worst, std::abs(out[i] - ref) / ref);
    }
    INFO("worst relative error " << worst);
    CHECK(worst < 3e-7);
}

TEST_CASE("softplus matches log1p(exp(x)) and passes inputs above 20 through", "[kernels]") {
    std::vector<float> x;
    for (double v = -30.0; v <= 40.0; v += 0.0071) x.push_back(static_cast<float>(v));
    // the edges of the 16-lane targets' table intervals (j +- 1/2, both signs), its clamp (31.49) and
    // the exp tail below -31, one float either side of each
    for (int j = 0; j <= 33; ++j)
        for (float e : {j - 0.5f, static_cast<float>(j), j + 0.5f, 31.49f, 31.0f})
            for (float v : {e, -e})
                for (float w : {std::nextafter(v, -100.0f), v, std::nextafter(v, 100.0f)}) x.push_back(w);
    while (x.size() % kLanes) x.push_back(1.0f);
    std::vector<float> y = x;
    kernels::softplus(y.data(), y.size());
    double worst = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
        const double xi = x[i];
        const double ref = xi > 20.0 ? xi : std::log1p(std::exp(xi));
        worst = std::max(worst, std::abs(y[i] - ref) / std::max(ref, 1e-30));
    }
    // the piecewise polynomial of the 16-lane targets (MathOps-inl.h) is held to its stated 3e-7
    const bool table = std::string(kernels::targetName()).rfind("AVX3", 0) == 0;
    INFO(kernels::targetName() << ": worst relative error " << worst);
    CHECK(worst < (table ? 3e-7 : 1e-6));
}
