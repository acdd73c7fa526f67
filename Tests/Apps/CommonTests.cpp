// The shared pieces of the apps (mfx_apps_common): format/bit-depth mapping, the default-model
// search, the temporary-output guard and the progress bar's arithmetic.
#include "AppTestUtil.h"

#include <common/AudioFile.h>
#include <common/CommandLine.h>
#include <common/DefaultModel.h>
#include <common/Errors.h>
#include <common/PendingOutput.h>
#include <common/Progress.h>

#include <catch2/catch.hpp>

#include <sndfile.h>

#include <fstream>
#include <iostream>
#include <sstream>

using namespace mfx;
using namespace mfx::apps;
using namespace mfx::apptest;
using Catch::Matchers::Contains;

TEST_CASE("format names and extensions map to libsndfile formats", "[apps]") {
    REQUIRE(findFormatByName("wav") != nullptr);
    CHECK(findFormatByName("WAV")->major == SF_FORMAT_WAV);
    CHECK(findFormatByName("aif") == findFormatByName("aiff"));
    CHECK(findFormatByName("ogg")->codec == SF_FORMAT_VORBIS);
    CHECK(findFormatByName("mp4") == nullptr);
    CHECK(findFormatByExtension("x/take.FLAC") == findFormatByName("flac"));
    CHECK(findFormatByExtension("take.aif") == findFormatByName("aiff"));
    CHECK(findFormatByExtension("take.txt") == nullptr);
    CHECK(findFormatByExtension("take") == nullptr);
    CHECK(hasAudioExtension("a.wav"));
    CHECK(hasAudioExtension("a.voc")); // from libsndfile's own list
    CHECK_FALSE(hasAudioExtension("a.txt"));
    CHECK_FALSE(hasAudioExtension("README"));
}

TEST_CASE("bit depths parse and describe", "[apps]") {
    CHECK(parseBitDepth("16") == BitDepth::Pcm16);
    CHECK(parseBitDepth("24") == BitDepth::Pcm24);
    CHECK(parseBitDepth("32") == BitDepth::Pcm32);
    CHECK(parseBitDepth("float") == BitDepth::Float);
    CHECK(parseBitDepth("double") == BitDepth::Double);
    CHECK_FALSE(parseBitDepth("12").has_value());
    CHECK(describeFormat(SF_FORMAT_WAV | SF_FORMAT_PCM_24) == "WAV 24-bit");
    CHECK(describeFormat(SF_FORMAT_FLAC | SF_FORMAT_PCM_16) == "FLAC 16-bit");
    CHECK(describeFormat(SF_FORMAT_OGG | SF_FORMAT_VORBIS) == "OGG Vorbis");
}

TEST_CASE("chooseOutputFormat keeps the input's sample format where it can", "[apps]") {
    std::string note;
    const int wav16 = SF_FORMAT_WAV | SF_FORMAT_PCM_16, wavFloat = SF_FORMAT_WAV | SF_FORMAT_FLOAT;
    CHECK(chooseOutputFormat(nullptr, BitDepth::Same, wav16, 2, 44100, note) == wav16);
    CHECK(note.empty());
    CHECK(chooseOutputFormat(nullptr, BitDepth::Float, wav16, 2, 44100, note) == wavFloat);
    CHECK(chooseOutputFormat(findFormatByName("flac"), BitDepth::Same, wav16, 1, 48000, note) ==
          (SF_FORMAT_FLAC | SF_FORMAT_PCM_16));
    CHECK(chooseOutputFormat(findFormatByName("flac"), BitDepth::Same, wavFloat, 1, 48000, note) ==
          (SF_FORMAT_FLAC | SF_FORMAT_PCM_24));
    CHECK_THAT(note, Contains("cannot store"));
    CHECK(chooseOutputFormat(findFormatByName("aiff"), BitDepth::Pcm32, wavFloat, 1, 48000, note) ==
          (SF_FORMAT_AIFF | SF_FORMAT_PCM_32));
    CHECK(chooseOutputFormat(findFormatByName("ogg"), BitDepth::Same, wav16, 2, 48000, note) ==
          (SF_FORMAT_OGG | SF_FORMAT_VORBIS));
    // Vorbis input, no format asked: stays Vorbis; to WAV keeps 24 bits.
    const int vorbis = SF_FORMAT_OGG | SF_FORMAT_VORBIS;
    CHECK(chooseOutputFormat(nullptr, BitDepth::Same, vorbis, 2, 48000, note) == vorbis);
    CHECK(chooseOutputFormat(findFormatByName("wav"), BitDepth::Same, vorbis, 2, 48000, note) ==
          (SF_FORMAT_WAV | SF_FORMAT_PCM_24));
    const int mp3 = SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III;
    CHECK(chooseOutputFormat(findFormatByName("wav"), BitDepth::Same, mp3, 1, 48000, note) ==
          (SF_FORMAT_WAV | SF_FORMAT_PCM_24));
    CHECK(chooseOutputFormat(findFormatByName("aiff"), BitDepth::Same, SF_FORMAT_WAV | SF_FORMAT_ULAW, 1, 48000, note) ==
          (SF_FORMAT_AIFF | SF_FORMAT_PCM_24));
    CHECK(chooseOutputFormat(nullptr, BitDepth::Same, SF_FORMAT_WAV | SF_FORMAT_ULAW, 1, 48000, note) ==
          (SF_FORMAT_WAV | SF_FORMAT_ULAW));
    CHECK_THROWS_AS(chooseOutputFormat(findFormatByName("flac"), BitDepth::Float, wav16, 1, 48000, note), UsageError);
    CHECK_THROWS_AS(chooseOutputFormat(findFormatByName("ogg"), BitDepth::Pcm24, wav16, 1, 48000, note), UsageError);
    CHECK(formatClips(wav16));
    CHECK(formatClips(vorbis));
    CHECK_FALSE(formatClips(wavFloat));
}

TEST_CASE("the default model is looked for next to the executable, then in the source tree", "[apps]") {
    TempDir dir;
    const auto candidates = defaultModelCandidates(dir / "prefix" / "bin", dir / "src");
    REQUIRE(candidates.size() == 2);
    CHECK(candidates[0] == dir / "prefix" / "share" / "mambafx" / "models" / "default.safetensors");
    CHECK(candidates[1] == dir / "src" / "Resources" / "Models" / "default.safetensors");
    CHECK_FALSE(findDefaultModel(candidates).has_value());
    fs::create_directories(candidates[1].parent_path());
    std::ofstream(candidates[1]) << "x";
    CHECK(findDefaultModel(candidates) == candidates[1]);
    fs::create_directories(candidates[0].parent_path());
    std::ofstream(candidates[0]) << "x";
    CHECK(findDefaultModel(candidates) == candidates[0]);
}

TEST_CASE("PendingOutput appears under its final name only when committed", "[apps]") {
    TempDir dir;
    const fs::path out = dir / "out.wav";
    {
        PendingOutput pending(out);
        CHECK(pending.tempPath().parent_path() == dir.path());
        CHECK_THAT(pending.tempPath().filename().string(), Contains("out.wav.tmp-"));
        std::ofstream(pending.tempPath()) << "data";
    } // dropped uncommitted
    CHECK(tempFilesIn(dir.path()).empty());
    CHECK_FALSE(fs::exists(out));
    {
        PendingOutput pending(out);
        std::ofstream(pending.tempPath()) << "data";
        pending.commit();
    }
    CHECK(fs::exists(out));
    CHECK(tempFilesIn(dir.path()).empty());
}

TEST_CASE("progress arithmetic: real-time factor and durations", "[apps]") {
    CHECK(Progress::realtimeFactor(10.0, 0.5) == Approx(20.0));
    CHECK(Progress::realtimeFactor(10.0, 0.0) == 0.0);
    CHECK(Progress::formatDuration(7.4) == "0:07");
    CHECK(Progress::formatDuration(723.0) == "12:03");
    CHECK(Progress::formatDuration(3723.0) == "1:02:03");
    Progress off(10.0, Progress::Mode::Never);
    CHECK_FALSE(off.enabled());
    off.update(5.0); // harmless when off
}

TEST_CASE("render --progress draws a bar with x real-time and ETA on stderr", "[apps]") {
    TempDir dir;
    const auto modelPath = saveTestModel(makeModel(smallConfig(48000.0), 41), dir / "m.safetensors");
    writeAudio(dir / "in.wav", noiseSignal(200000, 1), 1, 48000, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    const auto shown = runMambafx({"render", "--model", modelPath.string(), (dir / "in.wav").string(), "-o",
                                   (dir / "a.wav").string(), "--progress"});
    REQUIRE(shown.code == 0);
    CHECK_THAT(shown.err, Contains("real-time") && Contains("ETA") && Contains("100%"));
    const auto hidden = runMambafx({"render", "--model", modelPath.string(), (dir / "in.wav").string(), "-o",
                                    (dir / "b.wav").string()});
    REQUIRE(hidden.code == 0);
    CHECK(hidden.err.find("ETA") == std::string::npos); // stderr is not a terminal here
}

TEST_CASE("error and note messages get through a std::cerr that another thread left failed", "[apps]") {
    // as after RtAudio's JACK-shutdown notice was cancelled mid-print on libjack's thread
    std::ostringstream captured;
    std::streambuf* old = std::cerr.rdbuf(captured.rdbuf());
    std::cerr.setstate(std::ios::badbit);
    printError("the audio system stopped the stream");
    std::cerr.setstate(std::ios::failbit);
    printNote("a note");
    std::cerr.rdbuf(old);
    std::cerr.clear();
    CHECK(captured.str() == "error: the audio system stopped the stream\nnote: a note\n");
}
