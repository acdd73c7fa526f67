// The MambaFX editor (see PluginEditor.h).
#include "PluginEditor.h"

namespace mfx::plugin {

namespace {
const juce::Colour kBackground{0xff15181c};
const juce::Colour kPanel{0xff20252b};
const juce::Colour kAccent{0xff4fc3a1};
} // namespace

MambaEditor::MambaEditor(MambaProcessor& processor) : juce::AudioProcessorEditor(processor), processor_(processor) {
    title_.setText("MambaFX", juce::dontSendNotification);
    title_.setFont(juce::Font(22.0f, juce::Font::bold));
    title_.setColour(juce::Label::textColourId, kAccent);
    modelName_.setFont(juce::Font(18.0f));
    modelName_.setMinimumHorizontalScale(0.6f);
    status_.setFont(juce::Font(13.0f));
    status_.setColour(juce::Label::textColourId, juce::Colours::lightgrey);
    error_.setFont(juce::Font(13.0f));
    error_.setColour(juce::Label::textColourId, juce::Colour(0xffff6b6b));
    error_.setMinimumHorizontalScale(0.5f);
    for (auto* c : {&title_, &modelName_, &status_, &error_}) addAndMakeVisible(*c);

    info_.setMultiLine(true, true);
    info_.setReadOnly(true);
    info_.setScrollbarsShown(true);
    info_.setCaretVisible(false);
    info_.setFont(juce::Font(13.0f));
    info_.setColour(juce::TextEditor::backgroundColourId, kPanel);
    info_.setColour(juce::TextEditor::outlineColourId, kPanel);
    addAndMakeVisible(info_);

    load_.setTooltip("Load a model file (.safetensors); you can also drop one onto this window");
    previous_.setTooltip("Previous model in the same folder");
    next_.setTooltip("Next model in the same folder");
    recent_.setTooltip("Recently used models");
    default_.setTooltip("The model bundled with MambaFX");
    load_.onClick = [this] { chooseFile(); };
    previous_.onClick = [this] { processor_.loadNeighbourModel(-1); };
    next_.onClick = [this] { processor_.loadNeighbourModel(+1); };
    recent_.onClick = [this] { showRecent(); };
    default_.onClick = [this] { processor_.loadDefaultModel(); };
    default_.setEnabled(MambaProcessor::hasDefaultModel());
    for (auto* b : {&load_, &previous_, &next_, &recent_, &default_}) addAndMakeVisible(*b);

    setUpKnob(inGain_, paramId::inGain, "Input");
    setUpKnob(outGain_, paramId::outGain, "Output");
    setUpKnob(mix_, paramId::mix, "Mix");
    for (int i = 0; i < kCondParams; ++i) setUpKnob(cond_[i], paramId::cond(i), "Control " + juce::String(i + 1));

    auto& apvts = processor_.parameters();
    bypassControl_ = std::make_unique<ToggleControl>(bypass_, *apvts.getParameter(paramId::bypass));
    linkedControl_ = std::make_unique<ToggleControl>(linked_, *apvts.getParameter(paramId::linked));
    linked_.setTooltip("Stereo: sum both channels to mono and run the model once");
    addAndMakeVisible(bypass_);
    addAndMakeVisible(linked_);
    addAndMakeVisible(meter_);

    processor_.modelChanged.addChangeListener(this);
    refreshModel();

    setResizable(true, true);
    setResizeLimits(560, 420, 1800, 1400);
    setSize(760, 540);
    lastTimer_ = juce::Time::getMillisecondCounterHiRes();
    startTimerHz(30);
}

MambaEditor::~MambaEditor() { processor_.modelChanged.removeChangeListener(this); }

void MambaEditor::setUpKnob(Knob& knob, const juce::String& paramId, const juce::String& name) {
    knob.slider.setTextBoxStyle(juce::Slider::TextBoxBelow, false, 80, 20);
    knob.slider.setColour(juce::Slider::rotarySliderFillColourId, kAccent);
    knob.label.setText(name, juce::dontSendNotification);
    knob.label.setJustificationType(juce::Justification::centred);
    knob.control = std::make_unique<SliderControl>(knob.slider, *processor_.parameters().getParameter(paramId));
    addAndMakeVisible(knob.slider);
    addAndMakeVisible(knob.label);
}

void MambaEditor::refreshModel() {
    const auto model = processor_.currentModel();
    if (model) {
        modelName_.setText(juce::String(model->info.name) +
                               (model->origin == ModelOrigin::Default ? " (default)" : juce::String()),
                           juce::dontSendNotification);
        juce::String text;
        if (model->path.isNotEmpty()) text << model->path << "\n";
        text << juce::String(model->info.describe());
        info_.setText(text, false);
    } else {
        modelName_.setText("No model loaded (pass-through)", juce::dontSendNotification);
        info_.setText(MambaProcessor::hasDefaultModel()
                          ? "Load a model with Load..., by dropping a .safetensors file here, or pick Default."
                          : "Load a model with Load... or by dropping a .safetensors file here.\n"
                            "(This build has no embedded default model.)",
                      false);
    }
    const int used = std::min(processor_.condSlots().count(), kCondParams);
    for (int i = 0; i < kCondParams; ++i) {
        const bool visible = i < used;
        cond_[i].slider.setVisible(visible);
        cond_[i].label.setVisible(visible);
        if (visible) {
            cond_[i].label.setText(juce::String(processor_.condSlots().spec(i).name), juce::dontSendNotification);
            cond_[i].slider.updateText(); // the value text follows the model's range
        }
    }
    error_.setText(processor_.lastError(), juce::dontSendNotification);
    resized();
}

void MambaEditor::changeListenerCallback(juce::ChangeBroadcaster*) { refreshModel(); }

void MambaEditor::timerCallback() {
    for (Knob* k : {&inGain_, &outGain_, &mix_}) k->control->poll();
    for (Knob& k : cond_) k.control->poll();
    bypassControl_->poll();
    linkedControl_->poll();
    const double now = juce::Time::getMillisecondCounterHiRes();
    const float dt = static_cast<float>((now - lastTimer_) / 1000.0);
    lastTimer_ = now;
    float in[2], out[2];
    processor_.takePeaks(in, out);
    const int channels = std::max(1, std::min(2, processor_.getTotalNumInputChannels()));
    meter_.push(in, out, channels, dt);

    juce::String s;
    s << "CPU " << juce::String(processor_.cpuLoad() * 100.0f, 1) << " %";
    const int latency = processor_.getLatencySamples();
    s << "   latency " << latency << " samples";
    if (!processor_.isPrepared()) {
        s << "   audio not running";
    } else if (const auto model = processor_.currentModel()) {
        const double hostRate = processor_.getSampleRate();
        if (hostRate > 0.0 && std::abs(hostRate - model->info.sampleRate) > 1e-6)
            s << " (resampling " << juce::String(hostRate, 0) << " -> " << juce::String(model->info.sampleRate, 0)
              << " Hz)";
        else
            s << "   " << juce::String(model->info.sampleRate, 0) << " Hz";
    }
    if (processor_.isLoading()) s << "   loading...";
    status_.setText(s, juce::dontSendNotification);
}

void MambaEditor::chooseFile() {
    juce::File start;
    if (const auto model = processor_.currentModel(); model && model->path.isNotEmpty()) start = juce::File(model->path);
    chooser_ = std::make_unique<juce::FileChooser>("Load a MambaFX model", start, kModelFilePattern);
    chooser_->launchAsync(juce::FileBrowserComponent::openMode | juce::FileBrowserComponent::canSelectFiles,
                          [this](const juce::FileChooser& chooser) {
                              const juce::File file = chooser.getResult();
                              if (file != juce::File()) processor_.loadModelFile(file);
                          });
}

void MambaEditor::showRecent() {
    const juce::StringArray paths = processor_.recentModels().paths();
    juce::PopupMenu menu;
    if (paths.isEmpty()) menu.addItem(-1, "(no recent models)", false);
    for (int i = 0; i < paths.size(); ++i) menu.addItem(i + 1, paths[i]);
    if (!paths.isEmpty()) {
        menu.addSeparator();
        menu.addItem(1000, "Clear the list");
    }
    menu.showMenuAsync(juce::PopupMenu::Options().withTargetComponent(&recent_), [this, paths](int result) {
        if (result == 1000)
            processor_.recentModels().clear();
        else if (result >= 1 && result <= paths.size())
            processor_.loadModelFile(juce::File(paths[result - 1]));
    });
}

bool MambaEditor::isInterestedInFileDrag(const juce::StringArray& files) { return files.size() >= 1; }

void MambaEditor::fileDragEnter(const juce::StringArray&, int, int) {
    dragOver_ = true;
    repaint();
}

void MambaEditor::fileDragExit(const juce::StringArray&) {
    dragOver_ = false;
    repaint();
}

void MambaEditor::filesDropped(const juce::StringArray& files, int, int) {
    dragOver_ = false;
    repaint();
    if (!files.isEmpty()) processor_.loadModelFile(juce::File(files[0])); // the loader reports a wrong file
}

void MambaEditor::paint(juce::Graphics& g) { g.fillAll(kBackground); }

void MambaEditor::paintOverChildren(juce::Graphics& g) {
    if (!dragOver_) return;
    g.setColour(kAccent.withAlpha(0.15f));
    g.fillAll();
    g.setColour(kAccent);
    g.drawRect(getLocalBounds(), 3);
    g.setFont(20.0f);
    g.drawText("Drop a model file to load it", getLocalBounds(), juce::Justification::centred);
}

void MambaEditor::resized() {
    auto area = getLocalBounds().reduced(10);
    auto top = area.removeFromTop(34);
    title_.setBounds(top.removeFromLeft(110));
    for (auto* b : {&default_, &recent_, &next_, &previous_, &load_}) {
        const int w = b == &next_ || b == &previous_ ? 34 : 78;
        b->setBounds(top.removeFromRight(w).reduced(2));
    }
    modelName_.setBounds(top);

    error_.setBounds(area.removeFromBottom(20));
    status_.setBounds(area.removeFromBottom(20));
    area.removeFromBottom(4);

    meter_.setBounds(area.removeFromRight(std::max(90, area.getWidth() / 7)).reduced(4, 8));
    area.removeFromRight(6);

    info_.setBounds(area.removeFromTop(std::max(90, area.getHeight() * 32 / 100)));
    area.removeFromTop(8);

    const int used = std::min(processor_.condSlots().count(), kCondParams);
    const int rows = used > 0 ? 2 : 1;
    const int rowHeight = area.getHeight() / rows;
    auto placeKnob = [](Knob& k, juce::Rectangle<int> r) {
        k.label.setBounds(r.removeFromTop(18));
        k.slider.setBounds(r.reduced(4, 0));
    };

    auto row = area.removeFromTop(rowHeight);
    auto toggles = row.removeFromRight(std::max(120, row.getWidth() / 5));
    bypass_.setBounds(toggles.removeFromTop(toggles.getHeight() / 2).withSizeKeepingCentre(toggles.getWidth(), 28));
    linked_.setBounds(toggles.withSizeKeepingCentre(toggles.getWidth(), 28));
    const int w = row.getWidth() / 3;
    placeKnob(inGain_, row.removeFromLeft(w));
    placeKnob(mix_, row.removeFromLeft(w));
    placeKnob(outGain_, row);

    if (used > 0) {
        const int cw = area.getWidth() / kCondParams;
        for (int i = 0; i < used; ++i) placeKnob(cond_[i], area.removeFromLeft(cw));
    }
}

} // namespace mfx::plugin
