// Streaming behaviour of the CUDA backend: batches equal separate runs, the window size and the split
// into calls do not change the output, state round trips, reset, device-resident rendering, the
// baseline pipeline, and shapes it refuses.
#include "GpuTestSupport.h"
#include "../Core/Float32Bounds.h"

#include <random>

using namespace mfx;
using namespace mfx::gputest;

namespace {
constexpr double kSame = 1e-6; // two GPU runs that differ only in chunk/window boundaries
}

TEST_CASE("CUDA backend: a batch of streams equals separate runs and the reference", "[gpu][batch]") {
    MFX_REQUIRE_GPU();
    const Config c = referenceSize();
    const Model model = strongModel(c, fresh(21));
    const std::size_t n = 30011;
    std::vector<std::vector<float>> in;
    for (int s = 0; s < 5; ++s) in.push_back(test::mixedSignal(n, fresh(40) + static_cast<std::uint64_t>(s)));
    auto batch = makeGpu(model, 5, 4099);
    const auto outs = runGpu(*batch, in);
    for (int s = 0; s < 5; ++s) {
        INFO("stream " << s);
        auto single = makeGpu(model, 1);
        const std::vector<float> one = runGpu1(*single, in[static_cast<std::size_t>(s)]);
        CHECK(relL2(outs[static_cast<std::size_t>(s)], one) <= kSame);
        CHECK(stateRelativeError(batch->getState(s), single->getState(0)) <= kSame);
        ReferenceState rs(c);
        const std::vector<double> ref = referenceForward(model, in[static_cast<std::size_t>(s)].data(), nullptr, n, rs);
        const double err = relL2(outs[static_cast<std::size_t>(s)], ref), stateErr = stateRelativeError(batch->getState(s), rs);
        // 1e-5, or for a fresh model that amplifies float32 rounding the CPU tests' bound (Float32Bounds.h)
        const test::Bounds b = test::boundsFor(err, stateErr, model, in[static_cast<std::size_t>(s)], nullptr, ref, rs);
        CHECK(err <= b.out);
        CHECK(stateErr <= b.state);
    }
}

TEST_CASE("CUDA backend: window size and call split do not change the output", "[gpu][windows]") {
    MFX_REQUIRE_GPU();
    const Config c = referenceSize();
    const Model model = strongModel(c, fresh(22));
    const std::size_t n = 100003;
    const std::vector<float> in = test::mixedSignal(n, fresh(5));
    auto whole = makeGpu(model, 1);
    const std::vector<float> ref = runGpu1(*whole, in);
    const State refState = whole->getState(0);
    for (const std::size_t w : {std::size_t(777), std::size_t(4096), std::size_t(65537)}) {
        INFO("window " << w);
        auto gpu = makeGpu(model, 1, w);
        CHECK(relL2(runGpu1(*gpu, in), ref) <= kSame);
        CHECK(stateRelativeError(gpu->getState(0), refState) <= kSame);
    }
    // The same signal fed in calls of random sizes (0 included).
    auto pieces = makeGpu(model, 1, 5000);
    std::vector<float> out(n, std::numeric_limits<float>::quiet_NaN());
    std::mt19937 rng(3);
    for (std::size_t t = 0; t < n;) {
        const std::size_t len = std::min<std::size_t>(n - t, std::uniform_int_distribution<std::size_t>(0, 9000)(rng));
        const float* ip = in.data() + t;
        float* op = out.data() + t;
        pieces->process(&ip, &op, 1, len);
        t += len;
    }
    REQUIRE(allFinite(out));
    CHECK(relL2(out, ref) <= kSame);
    CHECK(stateRelativeError(pieces->getState(0), refState) <= kSame);
}

TEST_CASE("CUDA backend: state get/set continues a stream, reset starts it over", "[gpu][state]") {
    MFX_REQUIRE_GPU();
    const Config c = referenceSize();
    const Model model = strongModel(c, fresh(23));
    const std::vector<float> a = test::mixedSignal(12345, fresh(6)), b = test::mixedSignal(23456, fresh(7));
    std::vector<float> ab = a;
    ab.insert(ab.end(), b.begin(), b.end());
    auto one = makeGpu(model, 1);
    const std::vector<float> outAb = runGpu1(*one, ab);

    auto first = makeGpu(model, 1);
    runGpu1(*first, a);
    auto second = makeGpu(model, 2); // restore into stream 1 of another backend
    second->setState(1, first->getState(0));
    std::vector<std::vector<float>> in2 = {test::noise(b.size(), 9), b};
    const auto out2 = runGpu(*second, in2);
    CHECK(relL2(out2[1].data(), outAb.data() + a.size(), b.size()) <= kSame);
    CHECK(stateRelativeError(second->getState(1), one->getState(0)) <= kSame);

    one->reset();
    CHECK(stateRelativeError(one->getState(0), State(c)) == 0.0);
    CHECK(relL2(runGpu1(*one, ab), outAb) <= kSame);

    State wrong(referenceSize());
    wrong.layers.pop_back();
    CHECK_THROWS_AS(one->setState(0, wrong), ModelError);
}

TEST_CASE("CUDA backend: device-resident rendering equals host rendering", "[gpu][device]") {
    MFX_REQUIRE_GPU();
    const Config c = referenceSize();
    const Model model = strongModel(c, fresh(24));
    const std::size_t n = 70001, stride = 70016;
    std::vector<std::vector<float>> in = {test::mixedSignal(n, fresh(10)), test::mixedSignal(n, fresh(11)), test::mixedSignal(n, fresh(12))};
    auto host = makeGpu(model, 3, 9999);
    const auto ref = runGpu(*host, in);

    auto dev = makeGpu(model, 3, 9999);
    float* dIn = cuda::CudaBackend::deviceAlloc(3 * stride);
    float* dOut = cuda::CudaBackend::deviceAlloc(3 * stride);
    std::vector<float> poison(3 * stride, std::numeric_limits<float>::quiet_NaN());
    cuda::CudaBackend::copyToDevice(dOut, poison.data(), poison.size());
    for (std::size_t s = 0; s < 3; ++s) cuda::CudaBackend::copyToDevice(dIn + s * stride, in[s].data(), n);
    dev->processDevice(dIn, dOut, 3, n, stride);
    std::vector<float> out(3 * stride);
    cuda::CudaBackend::copyToHost(out.data(), dOut, out.size());
    cuda::CudaBackend::deviceFree(dIn);
    cuda::CudaBackend::deviceFree(dOut);
    for (std::size_t s = 0; s < 3; ++s) {
        const std::vector<float> o(out.begin() + static_cast<std::ptrdiff_t>(s * stride),
                                   out.begin() + static_cast<std::ptrdiff_t>(s * stride + n));
        REQUIRE(allFinite(o));
        CHECK(relL2(o, ref[s]) == 0.0); // same windows, same kernels: bitwise equal
    }
}

TEST_CASE("CUDA baseline pipeline (one warp per channel) matches the reference", "[gpu][baseline]") {
    MFX_REQUIRE_GPU();
    for (const Config& c : {referenceSize(), test::randomConfig(fresh(31))}) {
        if (c.dState > 64) continue;
        INFO(c.summary());
        const Model model = strongModel(c, fresh(25));
        const std::vector<float> in = test::mixedSignal(20011, fresh(13));
        ReferenceState rs(c);
        const std::vector<double> ref = referenceForward(model, in.data(), nullptr, in.size(), rs);
        auto gpu = makeGpu(model, 1, 7000);
        gpu->setPipeline(cuda::Pipeline::Baseline);
        const std::vector<float> out = runGpu1(*gpu, in);
        const double err = relL2(out, ref), stateErr = stateRelativeError(gpu->getState(0), rs);
        const test::Bounds b = test::boundsFor(err, stateErr, model, in, nullptr, ref, rs); // as above
        CHECK(err <= b.out);
        CHECK(stateErr <= b.state);
    }
}

TEST_CASE("CUDA backend refuses unsupported shapes with a reason", "[gpu][shapes]") {
    // Runs with or without a GPU: the shape check comes first.
    struct Bad { const char* field; Config config; };
    Config dState = referenceSize(), dInner = referenceSize(), dConv = referenceSize();
    dState.dState = 65;
    dInner.dModel = 160; // dInner 320
    dInner.dtRank = 10;
    dConv.dConv = 9;
    for (const Bad& b : {Bad{"dState", dState}, Bad{"dInner", dInner}, Bad{"dConv", dConv}}) {
        std::string why;
        CHECK(makeCudaBackend(0, b.config, why) == nullptr);
        INFO(why);
        CHECK(why.find(b.field) != std::string::npos);
    }
    std::string why;
    if (cudaDeviceCount() == 0) {
        CHECK(makeCudaBackend(0, referenceSize(), why) == nullptr);
        CHECK_FALSE(why.empty());
    } else {
        CHECK(makeCudaBackend(cudaDeviceCount(), referenceSize(), why) == nullptr);
        CHECK(why.find("does not exist") != std::string::npos);
        auto b = makeCudaBackend(0, referenceSize(), why);
        REQUIRE(b != nullptr);
        CHECK(b->name().find("cuda:0") == 0);
    }
}
