// Model loading off the audio thread (see ModelLoader.h).
#include "ModelLoader.h"

#include <filesystem>

#include <Engine/RestState.h>
#include <Model/ModelError.h>
#include <Model/ModelFile.h>

namespace mfx::plugin {

const char* toString(ModelOrigin origin) {
    switch (origin) {
    case ModelOrigin::File: return "file";
    case ModelOrigin::Default: return "default";
    case ModelOrigin::Session: return "session";
    }
    return "file";
}

ModelOrigin modelOriginFromString(const juce::String& text) {
    if (text == "default") return ModelOrigin::Default;
    if (text == "session") return ModelOrigin::Session;
    return ModelOrigin::File;
}

PreparedModel prepareModel(const LoadRequest& request) {
    auto loaded = std::make_shared<LoadedModel>();
    loaded->origin = request.origin;
    if (request.bytes.getSize() > 0) {
        loaded->bytes = request.bytes;
        loaded->path = request.path;
    } else {
        const juce::File& file = request.file;
        if (!file.existsAsFile())
            throw ModelError("cannot open " + file.getFullPathName().toStdString() + ": the file does not exist");
        // JUCE's existsAsFile() is true for devices and FIFOs, whose size reads as 0: reading one to
        // its end would never stop (/dev/zero) or block the loader thread (a FIFO).
        std::error_code ec;
        if (!std::filesystem::is_regular_file(file.getFullPathName().toStdString(), ec))
            throw ModelError(file.getFullPathName().toStdString() + " is not a regular file; choose a .safetensors model file");
        if (file.getSize() > static_cast<juce::int64>(kMaxModelFileBytes))
            throw ModelError(file.getFileName().toStdString() + " is " + std::to_string(file.getSize() >> 20) +
                             " MiB, larger than any MambaFX model can be; choose a .safetensors model file");
        juce::FileInputStream stream(file);
        if (!stream.openedOk())
            throw ModelError("cannot read " + file.getFullPathName().toStdString() + ": check the file's permissions");
        // bounded even if the file grows while it is read
        stream.readIntoMemoryBlock(loaded->bytes, static_cast<long long>(kMaxModelFileBytes) + 1);
        if (loaded->bytes.getSize() > kMaxModelFileBytes)
            throw ModelError(file.getFileName().toStdString() + " is larger than any MambaFX model can be; choose a .safetensors model file");
        loaded->path = file.getFullPathName();
    }
    const std::string sourceName = loaded->path.isNotEmpty() ? juce::File(loaded->path).getFileName().toStdString()
                                                              : std::string(toString(request.origin)) + " model";
    const auto* data = static_cast<const std::uint8_t*>(loaded->bytes.getData());
    auto model = std::make_shared<Model>(parseModel(std::span<const std::uint8_t>(data, loaded->bytes.getSize()), sourceName));
    if (model->config.nCond > 16)
        throw ModelError(sourceName + " has " + std::to_string(model->config.nCond) +
                         " conditioning inputs; the plugin supports at most 16");
    loaded->info = ModelInfo::fromModel(*model);
    loaded->model = model;

    PreparedModel prepared;
    prepared.engine = buildEngine(*loaded, request.userLoad ? std::vector<float>{} : request.knobs);
    prepared.loaded = std::move(loaded);
    return prepared;
}

std::unique_ptr<RealtimeEngine> buildEngine(const LoadedModel& loaded, const std::vector<float>& knobs) {
    auto engine = std::make_unique<RealtimeEngine>(*loaded.model, kEngineChannels);
    std::vector<float> values; // (nCond) in the model's units
    const auto& specs = loaded.info.conditioning;
    for (std::size_t i = 0; i < specs.size(); ++i)
        values.push_back(i < knobs.size() ? specs[i].fromNormalised(knobs[i]) : specs[i].def);
    values.resize(static_cast<std::size_t>(loaded.model->config.nCond), 0.0f);
    // held before the initial state is set, so that restOutput() (the resampling chain's offset,
    // RateChain.h) is the output at these knob values; the slot applies the live ones on pick-up
    if (!values.empty()) engine->setConditioning(values.data());
    try {
        engine->setInitialState(engineRestState(*loaded.model, values.empty() ? nullptr : values.data()));
    } catch (const ModelError& e) {
        throw ModelError(std::string(e.what()) + ": the model is unusable; retrain or re-export it");
    }
    engine->warmUp();
    return engine;
}

ModelLoader::ModelLoader(Done done, Failed failed, Housekeeping housekeeping)
    : juce::Thread("MambaFX model loader"), done_(std::move(done)), failed_(std::move(failed)),
      housekeeping_(std::move(housekeeping)) {
    startThread();
}

ModelLoader::~ModelLoader() { stopThread(10000); }

void ModelLoader::request(LoadRequest request) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        waiting_ = std::move(request);
        busy_ = true;
    }
    notify();
}

void ModelLoader::run() {
    while (!threadShouldExit()) {
        std::optional<LoadRequest> next;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            next.swap(waiting_);
        }
        if (next) {
            try {
                PreparedModel prepared = prepareModel(*next);
                done_(std::move(prepared), *next);
            } catch (const std::exception& e) {
                failed_(e.what(), *next);
            }
            std::lock_guard<std::mutex> lock(mutex_);
            if (!waiting_) busy_ = false;
        }
        housekeeping_();
        wait(10);
    }
}

} // namespace mfx::plugin
