"""What the kiosk says: error messages of the protocol and the exam page's words.

Messages are English msgids marked with ``N_`` (``scripts/i18n-update cbt`` extracts them
into the CBT catalogue) and translated with :func:`t`. Indonesian is the language lab PCs
speak, so until the catalogue carries a translation, the Indonesian text here is used;
a translation in the catalogue always wins.
"""

from __future__ import annotations

import contextlib
from typing import Any

from core.web.i18n import N_

__all__ = ["ERRORS", "UI", "error", "t", "ui"]

ERRORS: dict[str, str] = {
    "not_enrolled": N_("This computer is not enrolled as an exam kiosk. Ask the staff to "
                       "enrol it."),
    "throttled": N_("Too many wrong tries on this computer. Try again in %(x)s seconds."),
    "seb_required": N_("This lab requires Safe Exam Browser. Open the exam in Safe Exam "
                       "Browser."),
    "wrong": N_("The participant number or the password is wrong."),
    "no_session": N_("You are not scheduled in an exam session now. Ask the proctor."),
    "wrong_lab": N_("Your exam takes place in another lab: %(x)s."),
    "too_early": N_("Your session is not open for sign-in yet. Please wait."),
    "session_over": N_("Your exam session is over."),
    "exam_unavailable": N_("The exam is not available. Ask the proctor."),
    "submitted": N_("You have already submitted this exam."),
    "wrong_seat": N_("Your seat is %(x)s. Please sit there, or ask the proctor."),
    "elsewhere": N_("You are signed in at seat %(x)s. Ask the proctor to reset your login."),
    "kiosk_busy": N_("This computer is in use by candidate %(x)s."),
    "logged_out": N_("You were signed out of this computer. Sign in again, or ask the "
                     "proctor."),
    "not_signed_in": N_("Sign in first."),
    "invalid": N_("The server did not understand the message."),
    "wrong_attempt": N_("The message belongs to another attempt."),
    "version": N_("This exam page is out of date. Reload the page."),
    "rate_limited": N_("Too many messages at once; waiting a moment."),
    "bad_token": N_("That token is not right. Check the token the proctor shows."),
    "not_running": N_("The exam has not started yet."),
    "late": N_("Time is up: this answer reached the server after the deadline and was not "
               "saved."),
    "closed": N_("The exam has closed."),
    "cancelled": N_("The session is cancelled."),
    "unavailable": N_("The server could not save just now; the answer is sent again."),
}

UI: dict[str, str] = {
    "page_title": N_("Exam"),
    "seat": N_("Seat"),
    "signin_title": N_("Sign in to your exam"),
    "number": N_("Participant number"),
    "password": N_("Password"),
    "signin": N_("Sign in"),
    "signing_in": N_("Signing in..."),
    "network": N_("The server cannot be reached. Check the network and try again."),
    "waiting_title": N_("Waiting for the start"),
    "waiting_hint": N_("The exam starts when the proctor starts it, or when you type the "
                       "session token the proctor shows."),
    "token": N_("Session token"),
    "start": N_("Start"),
    "starting": N_("Starting..."),
    "paper_loading": N_("Downloading your paper..."),
    "paper_ready": N_("Your paper is on this computer, locked until the start."),
    "instructions": N_("Instructions"),
    "duration": N_("Duration: %(n)s minutes, %(items)s questions"),
    "question": N_("Question %(n)s of %(total)s"),
    "points": N_("%(n)s point(s)"),
    "prev": N_("Previous"),
    "next": N_("Next"),
    "flag": N_("Mark for review"),
    "unflag": N_("Unmark"),
    "answered": N_("Answered"),
    "flagged_count": N_("Marked"),
    "remaining": N_("Time left"),
    "saved": N_("Saved"),
    "saving": N_("Saving..."),
    "offline": N_("Offline: answers are kept on this computer"),
    "unsaved": N_("%(n)s answer(s) waiting to be sent"),
    "submit": N_("Submit"),
    "submit_confirm": N_("Submit your answers? You cannot change them afterwards."),
    "submit_unanswered": N_("%(n)s question(s) are not answered."),
    "submit_wait": N_("Wait until every answer is saved (the indicator shows Saved)."),
    "yes_submit": N_("Yes, submit"),
    "cancel": N_("Cancel"),
    "submitted_title": N_("Your answers have been submitted"),
    "submitted_deadline": N_("Time is up. The server submitted your answers."),
    "submitted_proctor": N_("The proctor ended your exam."),
    "answered_count": N_("%(n)s of %(total)s questions answered."),
    "finish": N_("Done"),
    "time_up": N_("Time is up."),
    "logged_out_title": N_("You were signed out"),
    "logged_out_text": N_("The proctor reset your login. Sign in again on the computer the "
                          "proctor shows you; your answers and your time are kept."),
    "insecure_title": N_("This connection is not secure"),
    "insecure": N_("This exam page was opened over plain HTTP at %(origin)s. Browsers "
                   "open encrypted exam papers only over secure connections (HTTPS)."),
    "insecure_operator": N_("For the operator: run \"ruang tls init --name %(name)s\", "
                            "start the server with \"ruang serve --tls\", install the lab CA "
                            "certificate on the lab PCs (ruang tls init prints how), then "
                            "open https://%(host)s/kiosk on them."),
    "decrypt_failed": N_("Your paper could not be opened on this computer. Ask the proctor."),
    "true": N_("True"),
    "false": N_("False"),
    "your_answer": N_("Your answer"),
    "number_answer": N_("Your answer (a number)"),
    "essay": N_("Write your answer here"),
    "words": N_("%(n)s word(s)"),
    "max_words": N_("at most %(n)s words"),
    "choose": N_("Choose..."),
    "nav": N_("Questions"),
    "reconnecting": N_("Reconnecting..."),
}

# The proctor's pages and messages, by English msgid. Templates and views call ``_`` on
# them (so the catalogue tools find them); those pages bind ``_`` to :func:`t`.
PAGES: dict[str, str] = {
    "Exam rooms": "Ruang ujian",
    "Exam room": "Ruang ujian",
    "Sessions you proctor, from today on.": "Sesi yang Anda awasi, mulai hari ini.",
    "Session": "Sesi",
    "Lab": "Lab",
    "Starts": "Mulai",
    "Ends": "Selesai",
    "No exam sessions to proctor.": "Tidak ada sesi ujian untuk diawasi.",
    "Show the token to the room; candidates type it to start, or start everyone who is "
    "signed in.": "Tampilkan token ke seluruh ruangan; peserta mengetiknya untuk mulai, atau "
                  "mulai untuk semua peserta yang sudah masuk.",
    "Session token": "Token sesi",
    "Changes every 15 minutes.": "Berganti setiap 15 menit.",
    "Open the exam on the lab's kiosks": "Buka ujian di kiosk lab",
    "Start for everyone signed in": "Mulai untuk semua yang sudah masuk",
    "Seat": "Kursi",
    "Participant number": "Nomor peserta",
    "Name": "Nama",
    "State": "Status",
    "Answered": "Terjawab",
    "Time left": "Sisa waktu",
    "Not signed in": "Belum masuk",
    "Signed out": "Login direset",
    "Waiting": "Menunggu",
    "Working": "Mengerjakan",
    "Submitted": "Sudah mengumpulkan",
    "Reset login": "Reset login",
    "Started: %(n)s candidate(s) received their key.":
        "Dimulai: %(n)s peserta menerima kunci naskahnya.",
    "The lab's kiosks were sent to the exam page.": "Kiosk lab diarahkan ke halaman ujian.",
    "Login reset: the candidate can sign in on another computer of the lab.":
        "Login direset: peserta dapat masuk di komputer lain di lab ini.",
    "That attempt is already submitted.": "Ujian peserta itu sudah dikumpulkan.",
    "Saved.": "Tersimpan.",
    "Exam kiosks of %(lab)s": "Kiosk ujian %(lab)s",
    "Whether this lab's kiosks must run exams in Safe Exam Browser.":
        "Apakah kiosk lab ini wajib menjalankan ujian di Safe Exam Browser.",
    "Require Safe Exam Browser": "Wajibkan Safe Exam Browser",
    "Allowed Config Keys (one per line, as Safe Exam Browser shows them)":
        "Config Key yang diizinkan (satu per baris, seperti ditampilkan Safe Exam Browser)",
    "Save": "Simpan",
    "%(key)s is not a Config Key (64 hexadecimal characters).":
        "%(key)s bukan Config Key (64 karakter heksadesimal).",
    "Give at least one Config Key when Safe Exam Browser is required.":
        "Isi paling sedikit satu Config Key bila Safe Exam Browser diwajibkan.",
}
# Indonesian, used while the catalogue has no translation for a msgid.
_ID: dict[str, str] = {
    **PAGES,
    ERRORS["not_enrolled"]: "Komputer ini belum terdaftar sebagai kiosk ujian. Minta staf "
                            "mendaftarkannya.",
    ERRORS["throttled"]: "Terlalu banyak percobaan salah di komputer ini. Coba lagi dalam "
                         "%(x)s detik.",
    ERRORS["seb_required"]: "Lab ini mewajibkan Safe Exam Browser. Buka ujian melalui Safe "
                            "Exam Browser.",
    ERRORS["wrong"]: "Nomor peserta atau kata sandi salah.",
    ERRORS["no_session"]: "Anda tidak terjadwal di sesi ujian saat ini. Hubungi pengawas.",
    ERRORS["wrong_lab"]: "Ujian Anda berlangsung di lab lain: %(x)s.",
    ERRORS["too_early"]: "Sesi Anda belum dibuka untuk masuk. Silakan tunggu.",
    ERRORS["session_over"]: "Sesi ujian Anda sudah berakhir.",
    ERRORS["exam_unavailable"]: "Ujian belum tersedia. Hubungi pengawas.",
    ERRORS["submitted"]: "Anda sudah mengumpulkan ujian ini.",
    ERRORS["wrong_seat"]: "Kursi Anda %(x)s. Silakan duduk di sana, atau hubungi pengawas.",
    ERRORS["elsewhere"]: "Anda sedang masuk di kursi %(x)s. Minta pengawas mereset login "
                         "Anda.",
    ERRORS["kiosk_busy"]: "Komputer ini sedang dipakai peserta %(x)s.",
    ERRORS["logged_out"]: "Anda telah dikeluarkan dari komputer ini. Masuk lagi, atau "
                          "hubungi pengawas.",
    ERRORS["not_signed_in"]: "Masuk terlebih dahulu.",
    ERRORS["invalid"]: "Server tidak memahami pesan ini.",
    ERRORS["wrong_attempt"]: "Pesan ini milik percobaan ujian lain.",
    ERRORS["version"]: "Halaman ujian ini sudah usang. Muat ulang halaman.",
    ERRORS["rate_limited"]: "Terlalu banyak pesan sekaligus; menunggu sebentar.",
    ERRORS["bad_token"]: "Token tidak tepat. Periksa token yang ditampilkan pengawas.",
    ERRORS["not_running"]: "Ujian belum dimulai.",
    ERRORS["late"]: "Waktu habis: jawaban ini sampai di server setelah batas waktu dan tidak "
                    "disimpan.",
    ERRORS["closed"]: "Ujian sudah ditutup.",
    ERRORS["cancelled"]: "Sesi ini dibatalkan.",
    ERRORS["unavailable"]: "Server belum dapat menyimpan; jawaban dikirim ulang.",
    UI["page_title"]: "Ujian",
    UI["seat"]: "Kursi",
    UI["signin_title"]: "Masuk ke ujian Anda",
    UI["number"]: "Nomor peserta",
    UI["password"]: "Kata sandi",
    UI["signin"]: "Masuk",
    UI["signing_in"]: "Sedang masuk...",
    UI["network"]: "Server tidak dapat dihubungi. Periksa jaringan lalu coba lagi.",
    UI["waiting_title"]: "Menunggu ujian dimulai",
    UI["waiting_hint"]: "Ujian dimulai saat pengawas memulainya, atau saat Anda mengetik token "
                        "sesi yang ditampilkan pengawas.",
    UI["token"]: "Token sesi",
    UI["start"]: "Mulai",
    UI["starting"]: "Memulai...",
    UI["paper_loading"]: "Mengunduh naskah soal Anda...",
    UI["paper_ready"]: "Naskah soal Anda sudah ada di komputer ini, terkunci sampai ujian "
                       "dimulai.",
    UI["instructions"]: "Petunjuk",
    UI["duration"]: "Durasi: %(n)s menit, %(items)s soal",
    UI["question"]: "Soal %(n)s dari %(total)s",
    UI["points"]: "%(n)s poin",
    UI["prev"]: "Sebelumnya",
    UI["next"]: "Berikutnya",
    UI["flag"]: "Tandai ragu-ragu",
    UI["unflag"]: "Hapus tanda",
    UI["answered"]: "Terjawab",
    UI["flagged_count"]: "Ragu-ragu",
    UI["remaining"]: "Sisa waktu",
    UI["saved"]: "Tersimpan",
    UI["saving"]: "Menyimpan...",
    UI["offline"]: "Offline: jawaban disimpan di komputer ini",
    UI["unsaved"]: "%(n)s jawaban menunggu dikirim",
    UI["submit"]: "Kumpulkan",
    UI["submit_confirm"]: "Kumpulkan jawaban Anda? Setelah dikumpulkan, jawaban tidak dapat "
                          "diubah.",
    UI["submit_unanswered"]: "%(n)s soal belum dijawab.",
    UI["submit_wait"]: "Tunggu sampai semua jawaban tersimpan (penanda menunjukkan "
                       "Tersimpan).",
    UI["yes_submit"]: "Ya, kumpulkan",
    UI["cancel"]: "Batal",
    UI["submitted_title"]: "Jawaban Anda sudah dikumpulkan",
    UI["submitted_deadline"]: "Waktu habis. Server mengumpulkan jawaban Anda.",
    UI["submitted_proctor"]: "Pengawas mengakhiri ujian Anda.",
    UI["answered_count"]: "%(n)s dari %(total)s soal terjawab.",
    UI["finish"]: "Selesai",
    UI["time_up"]: "Waktu habis.",
    UI["logged_out_title"]: "Anda telah dikeluarkan",
    UI["logged_out_text"]: "Pengawas mereset login Anda. Masuk lagi di komputer yang ditunjukkan "
                           "pengawas; jawaban dan sisa waktu Anda tetap tersimpan.",
    UI["insecure_title"]: "Koneksi ini tidak aman",
    UI["insecure"]: "Halaman ujian ini dibuka lewat HTTP biasa di %(origin)s. Browser hanya "
                    "mau membuka naskah soal terenkripsi lewat koneksi aman (HTTPS).",
    UI["insecure_operator"]: "Untuk operator: jalankan \"ruang tls init --name %(name)s\", "
                             "jalankan server dengan \"ruang serve --tls\", pasang sertifikat "
                             "CA lab di PC lab (petunjuknya dicetak oleh ruang tls init), lalu "
                             "buka https://%(host)s/kiosk di PC tersebut.",
    UI["decrypt_failed"]: "Naskah soal Anda tidak dapat dibuka di komputer ini. Hubungi "
                          "pengawas.",
    UI["true"]: "Benar",
    UI["false"]: "Salah",
    UI["your_answer"]: "Jawaban Anda",
    UI["number_answer"]: "Jawaban Anda (angka)",
    UI["essay"]: "Tulis jawaban Anda di sini",
    UI["words"]: "%(n)s kata",
    UI["max_words"]: "paling banyak %(n)s kata",
    UI["choose"]: "Pilih...",
    UI["nav"]: "Daftar soal",
    UI["reconnecting"]: "Menghubungkan kembali...",
}


def _locale() -> str:
    try:
        from flask_babel import get_locale

        loc = get_locale()
    except Exception:  # outside a request: the default language of the instance
        loc = None
    return str(loc) if loc is not None else "id"


def t(msgid: str, **values: Any) -> str:
    """``msgid`` in the reader's language, with ``%(name)s`` placeholders filled."""
    try:
        from flask_babel import gettext

        text = gettext(msgid)
    except Exception:
        text = msgid
    if text == msgid and _locale().startswith("id"):
        text = _ID.get(msgid, msgid)
    if values:
        with contextlib.suppress(KeyError, ValueError, TypeError):
            text = text % values
    return text


def error(code: str, detail: str = "") -> str:
    msgid = ERRORS.get(code)
    if msgid is None:
        return code
    return t(msgid, x=detail) if "%(x)s" in msgid else t(msgid)


def ui() -> dict[str, str]:
    """Every word of the exam page, for the script (placeholders left for it to fill)."""
    return {key: t(msgid) for key, msgid in UI.items()}
