#pragma once
// Counts heap allocations and frees made by one thread (the test's audio thread) anywhere in the
// process, including inside the dlopen()ed plugin: this test binary replaces malloc/calloc/realloc,
// the aligned allocators and free (operator new and delete end up there), and counts only while the
// calling thread has counting switched on; "allocations" below means both. Guards the rule "no allocation on the audio thread" for the plugin and
// JUCE's wrappers around it.
namespace mfx::test {

class CountAllocationsOnThisThread {
public:
    CountAllocationsOnThisThread() noexcept;
    ~CountAllocationsOnThisThread();
    CountAllocationsOnThisThread(const CountAllocationsOnThisThread&) = delete;
    CountAllocationsOnThisThread& operator=(const CountAllocationsOnThisThread&) = delete;
};

long countedAllocations() noexcept; // total over all counting scopes so far
// Of those, the ones with a frame in a loaded module whose path contains `marker` (the plugin's
// binary, e.g. "MambaFX"): the rest were made by the host around it.
void setPluginModuleMarker(const char* marker) noexcept;
long countedPluginAllocations() noexcept;
void resetCountedAllocations() noexcept;

} // namespace mfx::test
