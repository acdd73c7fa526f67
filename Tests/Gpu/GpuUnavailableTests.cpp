// Built instead of the GPU suite when MambaFX is configured without CUDA: the backend factory must
// refuse with a message (callers then render on the CPU), and report no devices.
#include "Backend/Backend.h"

#include <catch2/catch.hpp>

TEST_CASE("without CUDA, makeCudaBackend refuses with a message", "[gpu]") {
    std::string why;
    CHECK(mfx::cudaDeviceCount() == 0);
    CHECK(mfx::makeCudaBackend(0, mfx::Config{}, why) == nullptr);
    CHECK(why.find("CUDA") != std::string::npos);
    WARN("skipped: built without CUDA (" << why << ")");
}
