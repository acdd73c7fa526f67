// MambaProcessor: model management, host set-up and state (the audio path is in PluginAudio.cpp).
#include "PluginProcessor.h"

#include "PluginEditor.h"
#include "StandaloneQuit.h"

#include <cmath>

#if MFX_HAS_DEFAULT_MODEL
#include <MfxBinaryData.h>
#endif

namespace mfx::plugin {

namespace {
const juce::Identifier kStateTag{"MAMBAFX"};
const juce::Identifier kModelTag{"MODEL"};
} // namespace

MambaProcessor::MambaProcessor()
    : juce::AudioProcessor(BusesProperties()
                               .withInput("Input", juce::AudioChannelSet::stereo(), true)
                               .withOutput("Output", juce::AudioChannelSet::stereo(), true)),
      apvts_(*this, nullptr, "PARAMETERS", createParameterLayout(condSlots_)) {
    inGainDb_ = apvts_.getRawParameterValue(paramId::inGain);
    outGainDb_ = apvts_.getRawParameterValue(paramId::outGain);
    mixPercent_ = apvts_.getRawParameterValue(paramId::mix);
    bypass_ = apvts_.getRawParameterValue(paramId::bypass);
    linked_ = apvts_.getRawParameterValue(paramId::linked);
    for (int i = 0; i < kCondParams; ++i) cond_[i] = apvts_.getRawParameterValue(paramId::cond(i));
    bypassParam_ = apvts_.getParameter(paramId::bypass);
    if (juce::JUCEApplicationBase::isStandaloneApp()) standaloneQuit_ = std::make_unique<StandaloneQuit>();
    work_.assign(static_cast<size_t>(6 * kMaxChunk), 0.0f);
    inGain_.setCurrentAndTargetValue(1.0f); // unity until prepareToPlay reads the parameters
    outGain_.setCurrentAndTargetValue(1.0f);
    mix_.setCurrentAndTargetValue(1.0f);
    bypassAmount_.setCurrentAndTargetValue(0.0f);
    for (int c = 0; c < 2; ++c) {
        peakIn_[c] = 0.0f;
        peakOut_[c] = 0.0f;
    }

    // The embedded default model, loaded right away so the first block makes sound. Its knobs start
    // at the model's defaults (set directly: no host is listening yet).
    if (hasDefaultModel()) {
#if MFX_HAS_DEFAULT_MODEL
        LoadRequest request;
        request.bytes = juce::MemoryBlock(MfxBinary::default_safetensors, static_cast<size_t>(MfxBinary::default_safetensorsSize));
        request.origin = ModelOrigin::Default;
        request.sequence = nextSequence();
        loadNow(request);
#endif
        for (int i = 0; i < std::min(condSlots_.count(), kCondParams); ++i) {
            const CondSpec s = condSlots_.spec(i);
            apvts_.getParameter(paramId::cond(i))->setValue(s.toNormalised(s.def));
        }
    }

    loader_ = std::make_unique<ModelLoader>(
        [this](PreparedModel&& prepared, const LoadRequest& request) { install(std::move(prepared), request); },
        [this](const std::string& message, const LoadRequest& request) { fail(message, request); },
        [this] { housekeeping(); });
}

MambaProcessor::~MambaProcessor() {
    loader_.reset(); // stop the loader thread before anything it touches goes
    cancelPendingUpdate();
}

bool MambaProcessor::hasDefaultModel() { return MFX_HAS_DEFAULT_MODEL != 0; }

// ---- loading -------------------------------------------------------------------------------

void MambaProcessor::loadNow(const LoadRequest& request) {
    try {
        install(prepareModel(request), request);
    } catch (const std::exception& e) {
        fail(e.what(), request);
    }
}

void MambaProcessor::loadModelFile(const juce::File& file) {
    LoadRequest request;
    request.file = file;
    request.origin = ModelOrigin::File;
    request.userLoad = true;
    request.sequence = nextSequence();
    loader_->request(std::move(request));
}

void MambaProcessor::loadDefaultModel() {
#if MFX_HAS_DEFAULT_MODEL
    LoadRequest request;
    request.bytes = juce::MemoryBlock(MfxBinary::default_safetensors, static_cast<size_t>(MfxBinary::default_safetensorsSize));
    request.origin = ModelOrigin::Default;
    request.userLoad = true;
    request.sequence = nextSequence();
    loader_->request(std::move(request));
#else
    LoadRequest request;
    request.sequence = nextSequence();
    fail("this build has no default model embedded (Resources/Models/default.safetensors was missing when it "
         "was built); load a model file instead",
         request);
#endif
}

void MambaProcessor::loadNeighbourModel(int direction) {
    const auto model = currentModel();
    const juce::File current = model && model->path.isNotEmpty() ? juce::File(model->path) : juce::File();
    const juce::File next = neighbourModel(current, direction);
    if (next == juce::File()) {
        LoadRequest request;
        request.sequence = nextSequence();
        fail("the current model is not a file in a folder; use Load... to pick one", request);
        return;
    }
    loadModelFile(next);
}

std::unique_ptr<RateChain> MambaProcessor::makeChainLocked(const LoadedModel* model,
                                                           std::unique_ptr<RealtimeEngine> engine) {
    const double modelRate = model != nullptr ? model->model->config.sampleRate : hostRate_;
    auto chain = std::make_unique<RateChain>(hostRate_, modelRate); // throws for an unsupported ratio
    if (engine) chain->slot().publish(engine);                   // a fresh slot always takes it
    return chain;
}

void MambaProcessor::install(PreparedModel&& prepared, const LoadRequest& request) {
    {
        std::lock_guard<std::mutex> lock(installMutex_);
        if (request.sequence < installedSequence_) return; // a newer model got here first
        if (prepared_) {
            const double rate = prepared.loaded->model->config.sampleRate;
            try {
                // Same rate and audio already running: through the chain's EngineSlot (crossfade).
                // Otherwise a new chain: another rate, or a chain that never played (a session
                // restored after activation starts with its own model, not a fade from the default).
                if (latestChain_ != nullptr && latestChain_->started() && std::abs(latestChain_->modelRate() - rate) < 1e-6) {
                    stashedEngine_ = std::move(prepared.engine);
                    publishStashedLocked();
                } else {
                    publishChainLocked(makeChainLocked(prepared.loaded.get(), std::move(prepared.engine)));
                }
            } catch (const std::exception& e) {
                lastError_ = "cannot run " + prepared.loaded->info.name + " (" + std::to_string(rate) + " Hz) at " +
                             std::to_string(hostRate_) + " Hz: " + e.what();
                triggerAsyncUpdate();
                return;
            }
        }
        loaded_ = prepared.loaded;
        installedSequence_ = request.sequence;
        lastError_.clear();
        condSlots_.set(loaded_->info.conditioning);
    }
    if (request.userLoad) {
        applyCondDefaults_ = true;
        if (prepared.loaded->path.isNotEmpty()) {
            std::lock_guard<std::mutex> lock(recentMutex_);
            recentToAdd_.add(prepared.loaded->path);
        }
    }
    paramInfoChanged_ = true;
    triggerAsyncUpdate();
}

void MambaProcessor::fail(const std::string& message, const LoadRequest& request) {
    {
        std::lock_guard<std::mutex> lock(installMutex_);
        lastError_ = message;
    }
    triggerAsyncUpdate();
}

void MambaProcessor::clearModel() {
    {
        std::lock_guard<std::mutex> lock(installMutex_);
        loaded_.reset();
        installedSequence_ = nextSequence();
        condSlots_.set({});
        if (prepared_) publishChainLocked(makeChainLocked(nullptr, nullptr));
    }
    paramInfoChanged_ = true;
    triggerAsyncUpdate();
}

void MambaProcessor::publishChainLocked(std::unique_ptr<RateChain> chain) {
    stashedEngine_.reset(); // meant for the previous chain
    latestChain_ = chain.get();
    if (chain->latency() != latencyToReport_.exchange(chain->latency())) triggerAsyncUpdate();
    chains_.publish(std::move(chain));
}

void MambaProcessor::publishStashedLocked() {
    if (stashedEngine_ && latestChain_ != nullptr) latestChain_->slot().publish(stashedEngine_);
}

void MambaProcessor::housekeeping() {
    std::lock_guard<std::mutex> lock(installMutex_);
    publishStashedLocked();
    chains_.collect();
}

std::shared_ptr<const LoadedModel> MambaProcessor::currentModel() const {
    std::lock_guard<std::mutex> lock(installMutex_);
    return loaded_;
}

bool MambaProcessor::isPrepared() const {
    std::lock_guard<std::mutex> lock(installMutex_);
    return prepared_;
}

juce::String MambaProcessor::lastError() const {
    std::lock_guard<std::mutex> lock(installMutex_);
    return juce::String(lastError_);
}

void MambaProcessor::handleAsyncUpdate() {
    if (applyCondDefaults_.exchange(false)) {
        for (int i = 0; i < std::min(condSlots_.count(), kCondParams); ++i) {
            const CondSpec s = condSlots_.spec(i);
            auto* p = apvts_.getParameter(paramId::cond(i));
            p->beginChangeGesture();
            p->setValueNotifyingHost(s.toNormalised(s.def));
            p->endChangeGesture();
        }
    }
    if (paramInfoChanged_.exchange(false)) updateHostDisplay(ChangeDetails().withParameterInfoChanged(true));
    const int latency = latencyToReport_.load();
    if (latency >= 0 && latency != getLatencySamples()) setLatencySamples(latency);
    juce::StringArray recent;
    {
        std::lock_guard<std::mutex> lock(recentMutex_);
        recent.swapWith(recentToAdd_);
    }
    for (const auto& path : recent) recent_.add(juce::File(path));
    modelChanged.sendChangeMessage();
}

// ---- host set-up ---------------------------------------------------------------------------

bool MambaProcessor::isBusesLayoutSupported(const BusesLayout& layouts) const {
    const auto in = layouts.getMainInputChannelSet();
    const auto out = layouts.getMainOutputChannelSet();
    return in == out && (in == juce::AudioChannelSet::mono() || in == juce::AudioChannelSet::stereo());
}

void MambaProcessor::prepareToPlay(double sampleRate, int /*maximumExpectedSamplesPerBlock*/) {
    int latency = 0;
    {
        std::lock_guard<std::mutex> lock(installMutex_);
        hostRate_ = sampleRate;
        prepared_ = true;
        stashedEngine_.reset();
        std::unique_ptr<RateChain> chain;
        try {
            std::unique_ptr<RealtimeEngine> engine;
            if (loaded_) engine = buildEngine(*loaded_, knobPositions());
            chain = makeChainLocked(loaded_.get(), std::move(engine));
        } catch (const std::exception& e) {
            lastError_ = std::string("cannot run the model at ") + std::to_string(sampleRate) + " Hz: " + e.what();
            chain = std::make_unique<RateChain>(sampleRate, sampleRate); // pass-through
        }
        latestChain_ = chain.get();
        latency = chain->latency();
        latencyToReport_ = latency;
        chains_.installNow(std::move(chain));
    }
    setLatencySamples(latency);

    inGain_.reset(sampleRate, 0.02);
    outGain_.reset(sampleRate, 0.02);
    mix_.reset(sampleRate, 0.02);
    bypassAmount_.reset(sampleRate, 0.03);
    for (auto& s : condSmooth_) s.reset(sampleRate, 0.05);
    snapSmoothers();
    condPhase_ = 0;
    cpuAverage_ = 0.0;
}

juce::AudioProcessorEditor* MambaProcessor::createEditor() { return new MambaEditor(*this); }

// ---- state ---------------------------------------------------------------------------------

void MambaProcessor::getStateInformation(juce::MemoryBlock& destData) {
    juce::XmlElement root(kStateTag);
    root.setAttribute("version", JucePlugin_VersionString);
    if (auto params = apvts_.copyState().createXml()) root.addChildElement(params.release());
    if (const auto model = currentModel()) {
        auto* e = root.createNewChildElement(kModelTag);
        e->setAttribute("name", juce::String(model->info.name));
        e->setAttribute("path", model->path);
        e->setAttribute("origin", toString(model->origin));
        e->setAttribute("bytes", model->bytes.toBase64Encoding());
    }
    copyXmlToBinary(root, destData);
}

std::vector<float> MambaProcessor::knobPositions() const {
    std::vector<float> knobs(static_cast<std::size_t>(kCondParams));
    for (int i = 0; i < kCondParams; ++i) knobs[static_cast<std::size_t>(i)] = cond_[i]->load();
    return knobs;
}

void MambaProcessor::setStateInformation(const void* data, int sizeInBytes) {
    const auto xml = getXmlFromBinary(data, sizeInBytes);
    if (xml == nullptr || !xml->hasTagName(kStateTag)) {
        LoadRequest request;
        request.sequence = nextSequence();
        fail("the saved session state is not a MambaFX state; keeping the current settings", request);
        return;
    }
    applyCondDefaults_ = false; // the session's knob values win over a model's defaults
    if (auto* params = xml->getChildByName(apvts_.state.getType()))
        apvts_.replaceState(juce::ValueTree::fromXml(*params));
    const std::vector<float> knobs = knobPositions(); // the engine starts at rest for these

    snapSmoothers_ = true; // picked up by the next processBlock
    const auto* m = xml->getChildByName(kModelTag);
    if (m == nullptr) {
        clearModel();
        return;
    }
    LoadRequest request;
    request.path = m->getStringAttribute("path");
    request.origin = ModelOrigin::Session;
    request.sequence = nextSequence();
    request.knobs = knobs;
    if (modelOriginFromString(m->getStringAttribute("origin")) == ModelOrigin::Default) request.origin = ModelOrigin::Default;
    juce::MemoryBlock bytes;
    if (bytes.fromBase64Encoding(m->getStringAttribute("bytes")) && bytes.getSize() > 0)
        request.bytes = std::move(bytes);
    else if (request.path.isNotEmpty())
        request.file = juce::File(request.path);
    else {
        fail("the saved session names a model but holds neither its bytes nor its path; keeping the current model",
             request);
        return;
    }
    loadNow(request);
}

} // namespace mfx::plugin

// The plugin's entry point for JUCE's wrappers.
juce::AudioProcessor* JUCE_CALLTYPE createPluginFilter() { return new mfx::plugin::MambaProcessor(); }
