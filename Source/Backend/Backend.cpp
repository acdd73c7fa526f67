// The CPU backend (the offline path behind RenderBackend) and the device-string parser.
#include "Backend.h"
#include "../Engine/PreparedModel.h"
#include "../Model/ModelError.h"

#include <thread>

namespace mfx {

namespace {

class CpuBackend final : public RenderBackend {
public:
    explicit CpuBackend(const OfflineOptions& o) : options_(o) {}

    std::string name() const override {
        const int t = options_.numThreads > 0 ? options_.numThreads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
        return "cpu (" + std::to_string(t) + (t == 1 ? " thread)" : " threads)");
    }
    void prepare(const Model& model, int numStreams) override {
        renderer_ = std::make_unique<OfflineRenderer>(model, numStreams, options_);
    }
    void process(const float* const* in, float* const* out, int count, std::size_t n, const float* const* cond) override {
        check();
        for (int s = 0; s < count; ++s) renderer_->process(s, in[s], out[s], n, cond ? cond[s] : nullptr);
    }
    void setConditioning(const float* values) override { check(); renderer_->setConditioning(values); }
    void reset() override { check(); renderer_->reset(); }
    State getState(int stream) const override { check(); return renderer_->getState(stream); }
    void setState(int stream, const State& state) override { check(); renderer_->setState(stream, state); }
    bool bitwiseEngine() const override { return options_.scan == ScanMode::ChannelParallel; }

private:
    void check() const {
        if (!renderer_) throw ModelError("backend used before prepare()");
    }
    OfflineOptions options_;
    std::unique_ptr<OfflineRenderer> renderer_;
};

} // namespace

std::unique_ptr<RenderBackend> makeCpuBackend(const OfflineOptions& options) { return std::make_unique<CpuBackend>(options); }

DeviceChoice parseDevice(const std::string& device) {
    DeviceChoice c;
    if (device == "cpu") {
        c.kind = DeviceChoice::Kind::Cpu;
    } else if (device == "auto") {
        c.kind = DeviceChoice::Kind::Auto;
    } else if (device == "cuda") {
        c.kind = DeviceChoice::Kind::Cuda;
    } else if (device.rfind("cuda:", 0) == 0 && device.size() > 5 && device.size() < 9 &&
               device.find_first_not_of("0123456789", 5) == std::string::npos) {
        c.kind = DeviceChoice::Kind::Cuda;
        c.index = std::stoi(device.substr(5));
    } else {
        throw ModelError("unknown device '" + device + "': use auto, cpu, cuda or cuda:N");
    }
    return c;
}

std::unique_ptr<RenderBackend> makeBackend(const std::string& device, const Config& config, const OfflineOptions& cpuOptions,
                                           std::string& notice) {
    notice.clear();
    const DeviceChoice choice = parseDevice(device);
    if (choice.kind == DeviceChoice::Kind::Cpu) return makeCpuBackend(cpuOptions);
    if (choice.kind == DeviceChoice::Kind::Auto && cudaDeviceCount() == 0)
        return makeCpuBackend(cpuOptions); // quietly: auto means "GPU if present"
    std::string whyNot;
    auto gpu = makeCudaBackend(choice.index, config, whyNot);
    if (gpu) return gpu;
    notice = (choice.kind == DeviceChoice::Kind::Cuda ? "CUDA requested but not usable: " : "no usable GPU: ") + whyNot +
             "; rendering on the CPU instead";
    return makeCpuBackend(cpuOptions);
}

} // namespace mfx
