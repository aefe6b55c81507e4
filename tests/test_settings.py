import pytest

from assistant.core.settings import SettingsError, load_settings

pytestmark = pytest.mark.unit


def test_defaults_are_offline_and_local():
    s = load_settings()
    assert s.answer_backend == "extractive"
    assert s.chroma_mode == "embedded"
    assert s.host == "127.0.0.1"


def test_env_overrides_file(tmp_path, monkeypatch):
    f = tmp_path / "a.yaml"
    f.write_text("collection: from-file\nchunk_size: 300\n")
    monkeypatch.setenv("ASSISTANT_COLLECTION", "from-env")
    s = load_settings(f)
    assert s.collection == "from-env"
    assert s.chunk_size == 300


@pytest.mark.parametrize(
    "key,value,needle",
    [
        ("ASSISTANT_ANSWER_BACKEND", "gpt9", "'extractive', 'openai' or 'ollama'"),
        ("ASSISTANT_CHROMA_MODE", "cloud", "'embedded' or 'server'"),
        ("ASSISTANT_CHUNK_SIZE", "abc", "chunk_size"),
        ("ASSISTANT_PORT", "70000", "port"),
    ],
)
def test_bad_value_names_setting_and_allowed_values(monkeypatch, key, value, needle):
    monkeypatch.setenv(key, value)
    with pytest.raises(SettingsError) as err:
        load_settings()
    msg = str(err.value)
    assert key.removeprefix("ASSISTANT_").lower() in msg
    assert needle in msg


def test_overlap_must_be_smaller_than_size():
    with pytest.raises(SettingsError, match="chunk_overlap"):
        load_settings(chunk_size=100, chunk_overlap=100)


def test_unknown_setting_in_file_is_refused(tmp_path):
    f = tmp_path / "a.yaml"
    f.write_text("colection: typo\n")
    with pytest.raises(SettingsError, match="colection"):
        load_settings(f)
