// Switching between the models of a folder, and building engines off the audio thread.
#include "LiveTestUtil.h"

#include <live/LiveOptions.h>
#include <live/ModelFolder.h>

#include <Engine/RestState.h>
#include <Model/ModelError.h>

#include <catch2/catch.hpp>

#include <fstream>

using namespace mfx;
using namespace mfx::live;
using namespace mfx::live::test;
namespace fs = std::filesystem;

TEST_CASE("model folder next and previous wrap around and pick up new files and ignore other files", "[live][models]") {
    ScratchDir dir;
    for (const char* n : {"b.safetensors", "a.safetensors", "c.safetensors"}) saveModel(testModel(1), (dir / n).string());
    std::ofstream(dir / "notes.txt") << "not a model";
    ModelFolder folder(dir / "b.safetensors");
    REQUIRE(folder.models().size() == 3);
    CHECK(folder.current().filename() == "b.safetensors");
    CHECK(folder.peek(+1).filename() == "c.safetensors");
    CHECK(folder.peek(-1).filename() == "a.safetensors");
    CHECK(folder.peek(+2).filename() == "a.safetensors");
    CHECK(folder.current().filename() == "b.safetensors"); // peek does not move
    folder.select(folder.peek(+1));
    CHECK(folder.current().filename() == "c.safetensors");
    CHECK(folder.peek(+1).filename() == "a.safetensors");
    saveModel(testModel(2), (dir / "d.safetensors").string());
    CHECK(folder.peek(+1).filename() == "d.safetensors");
    fs::remove(dir / "c.safetensors"); // the current one vanished: still the anchor for n/p
    CHECK(folder.peek(+1).filename() == "d.safetensors");
    CHECK(folder.peek(-1).filename() == "b.safetensors");
}

TEST_CASE("model folder: a model that failed to load is passed over by the next n/p", "[live][models]") {
    ScratchDir dir;
    for (const char* n : {"a.safetensors", "c.safetensors"}) saveModel(testModel(1), (dir / n).string());
    std::ofstream(dir / "b.safetensors") << "broken";
    ModelFolder folder(dir / "a.safetensors");
    REQUIRE(folder.peek(+1).filename() == "b.safetensors");
    CHECK_THROWS_AS(loadEngine(folder.peek(+1), 48000.0, 1), ModelError);
    folder.passOver(folder.peek(+1)); // what the live loop does when a load fails
    CHECK(folder.current().filename() == "a.safetensors"); // still playing a
    CHECK(folder.peek(+1).filename() == "c.safetensors");  // was: b again, forever
    CHECK(folder.peek(-1).filename() == "c.safetensors");  // back from b is a, playing: past it
    folder.select(folder.peek(+1));
    CHECK(folder.current().filename() == "c.safetensors");
    CHECK(folder.peek(-1).filename() == "b.safetensors");  // browsing backwards reaches b, and
    folder.passOver(folder.peek(-1));
    CHECK(folder.peek(-1).filename() == "a.safetensors");  // passes it the same way
    CHECK(folder.peek(+1).filename() == "a.safetensors");  // from b, +1 is c, playing: past it to a
}

TEST_CASE("engine loading gives name and channels and the rest state and refuses a wrong rate", "[live][models]") {
    ScratchDir dir;
    saveModel(testModel(3), (dir / "amp.safetensors").string());
    saveModel(testModel(4, 44100.0), (dir / "amp44.safetensors").string());

    LoadedEngine e = loadEngine(dir / "amp.safetensors", 48000.0, 2);
    REQUIRE(e.engine);
    CHECK(e.engine->numChannels() == 2);
    CHECK(e.name == "test model 3");
    CHECK(e.engine->getState(0).allFinite());
    // warmUp() leaves every channel at the model's rest state (constant output under silence), bit for bit
    const State rest = engineRestState(testModel(3));
    CHECK(stateRelativeError(e.engine->getState(0), rest) == 0.0);
    CHECK(stateRelativeError(e.engine->getState(1), rest) == 0.0);
    e.engine->reset();
    CHECK(stateRelativeError(e.engine->getState(1), rest) == 0.0);

    CHECK_THROWS_WITH(loadEngine(dir / "amp44.safetensors", 48000.0, 1),
                      Catch::Contains("made for 44100 Hz, but this session runs its models at 48000 Hz"));
    CHECK(loadEngine(dir / "amp44.safetensors", 44100.0, 1).engine->config().sampleRate == 44100.0);
    CHECK_THROWS_AS(loadEngine(dir / "missing.safetensors", 48000.0, 1), ModelError);
    std::ofstream(dir / "junk.safetensors") << "junk";
    CHECK_THROWS_AS(loadEngine(dir / "junk.safetensors", 48000.0, 1), ModelError);
}
