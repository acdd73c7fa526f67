// JUCE's plugin hosting behind a JUCE-free interface (see PluginHost.h).
#include "PluginHost.h"

#include <juce_audio_processors/juce_audio_processors.h>

#include <functional>
#include <stdexcept>

namespace mfx::test {

const char* toString(PluginFormat format) { return format == PluginFormat::VST3 ? "VST3" : "LV2"; }

namespace {

void ensureJuce() {
    // The first caller's thread becomes the message thread. Never shut down: JUCE's shutdown at exit
    // would run after the plugins' modules have gone (DeletedAtShutdown crashes); the process ends anyway.
    static auto* init = new juce::ScopedJuceInitialiser_GUI();
    (void)init;
}

std::unique_ptr<juce::AudioPluginInstance> load(PluginFormat format) {
    ensureJuce();
    std::unique_ptr<juce::AudioPluginFormat> fmt;
    juce::String identifier;
    if (format == PluginFormat::VST3) {
        fmt = std::make_unique<juce::VST3PluginFormat>();
        identifier = MFX_VST3_PATH;
    } else {
        auto lv2 = std::make_unique<juce::LV2PluginFormat>();
        // JUCE 7.0.5 ignores LV2_PATH; scanning the build's LV2 folder loads our bundle into its world.
        lv2->searchPathsForPlugins(juce::FileSearchPath(juce::File(MFX_LV2_BUNDLE).getParentDirectory().getFullPathName()),
                                   false, false);
        fmt = std::move(lv2);
        identifier = MFX_LV2_URI;
    }
    juce::OwnedArray<juce::PluginDescription> types;
    fmt->findAllTypesForFile(types, identifier);
    if (types.isEmpty())
        throw std::runtime_error(std::string(toString(format)) + " plugin not found: " + identifier.toStdString());
    juce::String error;
    auto instance = fmt->createInstanceFromDescription(*types[0], 48000.0, 512, error);
    if (instance == nullptr)
        throw std::runtime_error(std::string("cannot instantiate the ") + toString(format) + " plugin: " + error.toStdString());
    return instance;
}

} // namespace

struct HostedPlugin::Impl {
    std::unique_ptr<juce::AudioPluginInstance> instance;
    juce::AudioBuffer<float> view;
    juce::MidiBuffer midi;
};

HostedPlugin::HostedPlugin(PluginFormat format) : impl_(std::make_unique<Impl>()), format_(format) {
    impl_->instance = load(format);
}

HostedPlugin::~HostedPlugin() {
    if (impl_->instance) impl_->instance->releaseResources();
}

std::string HostedPlugin::name() const { return impl_->instance->getName().toStdString(); }

std::string HostedPlugin::version() const { return impl_->instance->getPluginDescription().version.toStdString(); }

bool HostedPlugin::supportsChannels(int channels) const {
    const auto set = juce::AudioChannelSet::canonicalChannelSet(channels);
    juce::AudioProcessor::BusesLayout layout;
    layout.inputBuses.add(set);
    layout.outputBuses.add(set);
    return impl_->instance->checkBusesLayoutSupported(layout);
}

void HostedPlugin::prepare(double sampleRate, int maxBlock, int channels) {
    auto& p = *impl_->instance;
    p.releaseResources();
    const auto set = juce::AudioChannelSet::canonicalChannelSet(channels);
    juce::AudioProcessor::BusesLayout layout;
    layout.inputBuses.add(set);
    layout.outputBuses.add(set);
    if (!p.setBusesLayout(layout)) throw std::runtime_error("the plugin refused " + std::to_string(channels) + " channels");
    channels_ = channels;
    p.setRateAndBufferSizeDetails(sampleRate, maxBlock);
    p.prepareToPlay(sampleRate, maxBlock);
    // JUCE's VST3 hosting asks for the latency before activating the plugin (which is when a JUCE
    // plugin runs prepareToPlay), so the new latency arrives as a restart request through the
    // message loop, as in a DAW. Run the loop until it has been delivered.
    pumpMessages(200);
}

int HostedPlugin::latency() const { return impl_->instance->getLatencySamples(); }

void HostedPlugin::reset() { impl_->instance->reset(); }

void HostedPlugin::process(float* const* channels, int n) noexcept {
    impl_->view.setDataToReferTo(channels, channels_, n);
    impl_->midi.clear();
    impl_->instance->processBlock(impl_->view, impl_->midi);
}

std::vector<std::uint8_t> HostedPlugin::getState() const {
    juce::MemoryBlock block;
    impl_->instance->getStateInformation(block);
    const auto* data = static_cast<const std::uint8_t*>(block.getData());
    return std::vector<std::uint8_t>(data, data + block.getSize());
}

void HostedPlugin::setState(const std::vector<std::uint8_t>& state) {
    impl_->instance->setStateInformation(state.data(), static_cast<int>(state.size()));
}

namespace {

using Edit = std::function<void(juce::XmlElement&)>;

// MambaFX's state chunk (JUCE's copyXmlToBinary: "VC2!", u32 length, XML, NUL) at the start of
// `stream`, possibly followed by JUCE's private data; the chunk is edited, the rest kept.
juce::MemoryBlock editChunk(const juce::MemoryBlock& stream, const Edit& edit, std::string* xmlOut) {
    const auto size = static_cast<int>(stream.getSize());
    auto xml = juce::AudioProcessor::getXmlFromBinary(stream.getData(), size);
    if (xml == nullptr) throw std::runtime_error("the plugin's state does not start with MambaFX's XML");
    const auto length = static_cast<size_t>(juce::ByteOrder::littleEndianInt(juce::addBytesToPointer(stream.getData(), 4)));
    const size_t chunk = std::min(stream.getSize(), 8 + length + 1);
    if (edit) edit(*xml);
    if (xmlOut != nullptr) *xmlOut = xml->toString().toStdString();
    juce::MemoryBlock out;
    juce::AudioProcessor::copyXmlToBinary(*xml, out);
    out.append(juce::addBytesToPointer(stream.getData(), chunk), stream.getSize() - chunk);
    return out;
}

std::vector<std::uint8_t> toVector(const juce::MemoryBlock& m) {
    const auto* d = static_cast<const std::uint8_t*>(m.getData());
    return std::vector<std::uint8_t>(d, d + m.getSize());
}

std::vector<std::uint8_t> editPluginState(PluginFormat format, const std::vector<std::uint8_t>& state, const Edit& edit,
                                          std::string* xmlOut) {
    if (format == PluginFormat::VST3) {
        // JUCE's VST3 hosting: <VST3PluginState><IComponent>base64 of the component stream</IComponent>..
        auto outer = juce::AudioProcessor::getXmlFromBinary(state.data(), static_cast<int>(state.size()));
        auto* component = outer ? outer->getChildByName("IComponent") : nullptr;
        if (component == nullptr) throw std::runtime_error("not a VST3PluginState with an IComponent");
        juce::MemoryBlock stream;
        stream.fromBase64Encoding(component->getAllSubText());
        const auto edited = editChunk(stream, edit, xmlOut);
        component->deleteAllTextElements();
        component->addTextElement(edited.toBase64Encoding());
        juce::MemoryBlock out;
        juce::AudioProcessor::copyXmlToBinary(*outer, out);
        return toVector(out);
    }
    // JUCE's LV2 hosting: a Turtle state; the plugin's state is the "StateString" literal (base64).
    std::string text(state.begin(), state.end());
    while (!text.empty() && text.back() == '\0') text.pop_back();
    const auto key = text.find("StateString");
    if (key == std::string::npos) throw std::runtime_error("no StateString in the LV2 state");
    auto open = text.find('"', key);
    size_t quote = 1;
    if (text.compare(open, 3, "\"\"\"") == 0) quote = 3;
    const auto begin = open + quote;
    const auto end = text.find(std::string(quote, '"'), begin);
    juce::MemoryBlock stream;
    stream.fromBase64Encoding(juce::String(text.substr(begin, end - begin)));
    const auto edited = editChunk(stream, edit, xmlOut);
    text.replace(begin, end - begin, edited.toBase64Encoding().toStdString());
    return std::vector<std::uint8_t>(text.begin(), text.end());
}

} // namespace

std::string HostedPlugin::stateXml() const {
    std::string xml;
    editPluginState(format_, getState(), nullptr, &xml);
    return xml;
}

std::vector<std::uint8_t> HostedPlugin::stateWithModel(const std::vector<std::uint8_t>& state,
                                                       const std::vector<std::uint8_t>& modelBytes,
                                                       const std::string& path) const {
    return editPluginState(format_, state, [&](juce::XmlElement& xml) {
        if (auto* old = xml.getChildByName("MODEL")) xml.removeChildElement(old, true);
        auto* m = xml.createNewChildElement("MODEL");
        m->setAttribute("name", "test model");
        m->setAttribute("path", juce::String(path));
        m->setAttribute("origin", "session");
        m->setAttribute("bytes", juce::MemoryBlock(modelBytes.data(), modelBytes.size()).toBase64Encoding());
    }, nullptr);
}

std::vector<std::uint8_t> HostedPlugin::stateWithoutModel(const std::vector<std::uint8_t>& state) const {
    return editPluginState(format_, state, [](juce::XmlElement& xml) {
        if (auto* old = xml.getChildByName("MODEL")) xml.removeChildElement(old, true);
    }, nullptr);
}

void HostedPlugin::setModel(const std::vector<std::uint8_t>& modelBytes, const std::string& path) {
    setState(stateWithModel(getState(), modelBytes, path));
}

int HostedPlugin::numParameters() const { return impl_->instance->getParameters().size(); }

int HostedPlugin::parameterIndex(const std::string& id) const {
    const auto& params = impl_->instance->getParameters();
    const juce::String vst3Id(juce::String(id).hashCode() & 0x7fffffff); // JUCE's VST3 parameter ids
    for (int i = 0; i < params.size(); ++i) {
        if (auto* p = dynamic_cast<juce::HostedAudioProcessorParameter*>(params[i])) {
            const juce::String hostId = p->getParameterID();
            if (hostId == vst3Id || hostId.endsWith(":" + juce::String(id))) return i;
        }
    }
    throw std::runtime_error("the hosted plugin has no parameter " + id);
}

std::string HostedPlugin::parameterName(const std::string& id) const {
    return impl_->instance->getParameters()[parameterIndex(id)]->getName(128).toStdString();
}

void HostedPlugin::setParameter(const std::string& id, float normalised) {
    auto* p = impl_->instance->getParameters()[parameterIndex(id)];
    p->beginChangeGesture();
    p->setValueNotifyingHost(normalised);
    p->endChangeGesture();
}

void HostedPlugin::setParameters(const std::map<std::string, float>& normalised) {
    if (format_ == PluginFormat::VST3) {
        for (const auto& [id, value] : normalised) setParameter(id, value);
        return;
    }
    // MambaFX's saved parameters are plain values (Plugin/Parameters.h ranges).
    auto plain = [](const std::string& id, float n) {
        if (id == "inGain" || id == "outGain") return -24.0f + 48.0f * n;
        if (id == "mix") return 100.0f * n;
        return n;
    };
    setState(editPluginState(format_, getState(), [&](juce::XmlElement& xml) {
        auto* params = xml.getChildByName("PARAMETERS");
        if (params == nullptr) throw std::runtime_error("no PARAMETERS in the plugin's state");
        for (const auto& [id, value] : normalised) {
            auto* p = params->getChildByAttribute("id", juce::String(id));
            if (p == nullptr) throw std::runtime_error("no saved parameter " + id);
            p->setAttribute("value", plain(id, value));
        }
    }, nullptr));
}

void HostedPlugin::setHostBypass(bool bypassed) {
    auto* p = impl_->instance->getBypassParameter();
    if (p == nullptr) throw std::runtime_error("the hosted plugin has no bypass parameter");
    p->setValueNotifyingHost(bypassed ? 1.0f : 0.0f);
}

float HostedPlugin::parameter(const std::string& id) const {
    return impl_->instance->getParameters()[parameterIndex(id)]->getValue();
}

void HostedPlugin::pumpMessages(int milliseconds) {
    ensureJuce();
    juce::MessageManager::getInstance()->runDispatchLoopUntil(milliseconds);
}

} // namespace mfx::test
