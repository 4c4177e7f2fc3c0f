# Sourced by .ci/run: the environment the checks run in.
#
# CI set by the caller (the real CI runs `CI=true bash .ci/run`, with ../shared beside the clone): every
# tool and ../shared must be there, or the tests that need them fail. CI unset (a contributor running
# .ci/run in a fresh clone): CI=1 still makes a missing tool fail (.ci/run installs them), but the tests
# that need ../shared (corpora that are not shipped, such as Loghub, whose licence is research-only) skip
# with a note when it is absent: LOGVEIL_SHARED_OPTIONAL=1 says so.
if [ -z "${CI:-}" ]; then
    export LOGVEIL_SHARED_OPTIONAL=1
fi
export CI="${CI:-1}"
