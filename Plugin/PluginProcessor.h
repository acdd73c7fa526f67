#pragma once
// The MambaFX audio processor: parameters, model loading and hand-over, the real-time path, state.
//
// Audio path per block, in pieces of at most RateChain::kMaxChunk samples:
//   raw --input gain--> [linked: mono sum] --> ChainHandover (resampling + EngineSlot) --> wet
//   y = outGain * (mix * wet + (1 - mix) * dry)      dry = raw delayed by the reported latency
//   out = bypass ? dry : y                            (smoothed: gains, mix, bypass, conditioning)
// With unit gains, mix 100 %, bypass off and the model at the host's rate, out is exactly the
// engine's output (bitwise equal to `mambafx render`).
//
// Threads: the audio thread only runs processBlock/reset (no allocation, lock, I/O or exception).
// Models are prepared on the loader thread (user loads) or the calling thread (construction, session
// restore), then handed over lock-free; install() and the loader's housekeeping share one mutex that
// the audio thread never touches.
#include "ChainHandover.h"
#include "ModelBrowser.h"
#include "ModelLoader.h"
#include "Parameters.h"

#include <juce_audio_processors/juce_audio_processors.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

namespace mfx::plugin {

class StandaloneQuit;

class MambaProcessor : public juce::AudioProcessor, private juce::AsyncUpdater {
public:
    MambaProcessor();
    ~MambaProcessor() override;

    // juce::AudioProcessor
    void prepareToPlay(double sampleRate, int maximumExpectedSamplesPerBlock) override;
    void releaseResources() override {}
    void reset() override;
    bool isBusesLayoutSupported(const BusesLayout& layouts) const override;
    void processBlock(juce::AudioBuffer<float>& buffer, juce::MidiBuffer& midi) override;
    using juce::AudioProcessor::processBlock;

    juce::AudioProcessorEditor* createEditor() override;
    bool hasEditor() const override { return true; }
    const juce::String getName() const override { return JucePlugin_Name; }
    bool acceptsMidi() const override { return false; }
    bool producesMidi() const override { return false; }
    bool isMidiEffect() const override { return false; }
    double getTailLengthSeconds() const override { return 0.0; }
    int getNumPrograms() override { return 1; }
    int getCurrentProgram() override { return 0; }
    void setCurrentProgram(int) override {}
    const juce::String getProgramName(int) override { return {}; }
    void changeProgramName(int, const juce::String&) override {}
    void getStateInformation(juce::MemoryBlock& destData) override;
    void setStateInformation(const void* data, int sizeInBytes) override;
    juce::AudioProcessorParameter* getBypassParameter() const override { return bypassParam_; }

    // For the editor (message thread).
    juce::AudioProcessorValueTreeState& parameters() noexcept { return apvts_; }
    const CondSlots& condSlots() const noexcept { return condSlots_; }
    std::shared_ptr<const LoadedModel> currentModel() const;
    juce::String lastError() const;
    bool isLoading() const noexcept { return loader_ && loader_->busy(); }
    bool isPrepared() const;
    void loadModelFile(const juce::File& file);     // asynchronous
    void loadDefaultModel();                        // asynchronous; error if none is embedded
    void loadNeighbourModel(int direction);         // next (+1) / previous (-1) file in the folder
    RecentModels& recentModels() noexcept { return recent_; }
    static bool hasDefaultModel();
    float cpuLoad() const noexcept { return cpuLoad_.load(std::memory_order_relaxed); }
    // Peak levels since the last call (linear), per channel: in[0..1], out[0..1].
    void takePeaks(float (&in)[2], float (&out)[2]) noexcept;
    juce::ChangeBroadcaster modelChanged; // the model, its info or the last error changed

private:
    static constexpr int kMaxChunk = RateChain::kMaxChunk;
    static constexpr int kCondStep = 32; // conditioning updates on a fixed 32-sample grid while knobs move

    void install(PreparedModel&& prepared, const LoadRequest& request); // any non-audio thread
    void fail(const std::string& message, const LoadRequest& request);
    void loadNow(const LoadRequest& request);                           // synchronous
    void clearModel();
    void housekeeping();               // loader thread
    void publishChainLocked(std::unique_ptr<RateChain> chain); // with installMutex_ held
    void publishStashedLocked();       // with installMutex_ held
    std::unique_ptr<RateChain> makeChainLocked(const LoadedModel* model, std::unique_ptr<RealtimeEngine> engine);
    void handleAsyncUpdate() override; // message thread: host notifications, knob defaults, recent list
    std::uint64_t nextSequence() noexcept { return ++sequence_; }
    void processPiece(const float* const* raw, float* const* out, int nch, int n, bool linked) noexcept;
    void snapSmoothers() noexcept; // every smoother to its parameter's current value

    CondSlots condSlots_;
    juce::AudioProcessorValueTreeState apvts_;
    std::atomic<float>* inGainDb_ = nullptr;
    std::atomic<float>* outGainDb_ = nullptr;
    std::atomic<float>* mixPercent_ = nullptr;
    std::atomic<float>* bypass_ = nullptr;
    std::atomic<float>* linked_ = nullptr;
    std::atomic<float>* cond_[kCondParams] = {};
    std::vector<float> knobPositions() const; // (kCondParams) the conditioning knobs now, 0..1
    juce::AudioProcessorParameter* bypassParam_ = nullptr;

    // Model state shared by non-audio threads (guarded by installMutex_).
    mutable std::mutex installMutex_;
    std::shared_ptr<const LoadedModel> loaded_;
    std::string lastError_;
    bool prepared_ = false;
    double hostRate_ = 48000.0;
    RateChain* latestChain_ = nullptr;             // newest chain handed to chains_ (owned there)
    std::unique_ptr<RealtimeEngine> stashedEngine_; // waiting for latestChain_'s slot to take it
    std::uint64_t installedSequence_ = 0;
    std::atomic<std::uint64_t> sequence_{0};
    std::atomic<int> latencyToReport_{0};         // set with the chain, reported on the message thread

    // Work for the message thread (handleAsyncUpdate).
    std::atomic<bool> applyCondDefaults_{false};
    std::atomic<bool> snapSmoothers_{false}; // a restored session's values apply at once, not ramped
    std::atomic<bool> paramInfoChanged_{false};
    std::mutex recentMutex_;
    juce::StringArray recentToAdd_;
    RecentModels recent_;

    ChainHandover chains_;

    // Audio thread.
    juce::SmoothedValue<float> inGain_, outGain_, mix_, bypassAmount_;
    juce::SmoothedValue<float> condSmooth_[kCondParams];
    float condValues_[ChainHandover::kMaxCond] = {};
    int condPhase_ = 0;
    std::vector<float> work_; // (6, kMaxChunk): model input x2, wet x2, dry x2
    std::atomic<float> peakIn_[2], peakOut_[2];
    std::atomic<float> cpuLoad_{0.0f};
    double cpuAverage_ = 0.0;

    std::unique_ptr<StandaloneQuit> standaloneQuit_; // the Standalone only (StandaloneQuit.h)
    std::unique_ptr<ModelLoader> loader_; // last: its thread stops first on destruction

    JUCE_DECLARE_NON_COPYABLE_WITH_LEAK_DETECTOR(MambaProcessor)
};

} // namespace mfx::plugin
