# Copyright (c) m2df_mmaction contributors.
"""Tell video files from other files by name and by their first bytes.

Used where a file is about to be taken for a video clip (annotation files,
support and query folders), so that a text file, an image or a checkpoint
is named as what it is before any decoding starts:

- :func:`is_video_name`: the name ends with a video ending
  (:data:`VIDEO_EXTENSIONS`);
- :func:`non_video_name`: the name says it is no video (``notes.txt``,
  ``cover.jpg``, ``Thumbs.db``, ...), and what it is;
- :func:`sniff_non_video`: the first 512 bytes say it is no video (empty,
  text, an image, a PDF, a ZIP archive). Files whose first bytes are those
  of a video container, or that it does not recognise, are left to the
  decoder.

Example:
    >>> non_video_name('support/waving/notes.txt')
    'text file'
    >>> sniff_non_video('data/train.txt')  # an annotation file
    'is a text file (first line: "videos/0.mp4 0")'
"""
import codecs
import os.path as osp
from typing import Optional

__all__ = [
    'VIDEO_EXTENSIONS', 'is_video_name', 'non_video_name', 'sniff_non_video'
]

#: File endings taken for video clips.
VIDEO_EXTENSIONS = ('.mp4', '.avi', '.mkv', '.webm', '.mov', '.m4v', '.mpg',
                    '.mpeg', '.flv', '.wmv', '.3gp', '.ogv')

# Endings (and whole names) of files that are certainly no video.
_NON_VIDEO_NAMES = {
    'text file': ('.txt', '.md', '.rst', '.csv', '.tsv', '.json', '.jsonl',
                  '.yaml', '.yml', '.xml', '.html', '.log', '.ini', '.cfg',
                  '.py', '.sh', '.srt', '.vtt'),
    'image': ('.jpg', '.jpeg', '.png', '.gif', '.bmp', '.tif', '.tiff',
              '.webp', '.heic'),
    'document': ('.pdf', '.doc', '.docx'),
    'archive or data file': ('.zip', '.tar', '.gz', '.tgz', '.7z', '.pkl',
                             '.pth', '.pt', '.npy', '.npz', '.safetensors'),
    'system file': ('thumbs.db', 'desktop.ini', '.ds_store'),
}

# First bytes of the video containers MMAction2's readers open.
_VIDEO_MAGIC = (
    b'RIFF',  # AVI
    b'\x1a\x45\xdf\xa3',  # Matroska / WebM
    b'\x00\x00\x01\xba',  # MPEG program stream
    b'\x00\x00\x01\xb3',  # MPEG-1/2 video stream
    b'FLV',
    b'\x30\x26\xb2\x75\x8e\x66\xcf\x11',  # ASF / WMV
    b'OggS',
    b'.RMF',  # RealMedia
)
# ISO base media (MP4, MOV, 3GP): a box type at bytes 4..8.
_ISO_BOXES = (b'ftyp', b'moov', b'mdat', b'wide', b'free', b'skip', b'pnot')
_OTHER_MAGIC = (
    (b'\xff\xd8\xff', 'is a JPEG image'),
    (b'\x89PNG\r\n\x1a\n', 'is a PNG image'),
    (b'GIF8', 'is a GIF image'),
    (b'BM', None),  # BMP: too short a magic to judge on its own
    (b'%PDF', 'is a PDF document'),
    (b'PK\x03\x04', 'is a ZIP archive (a .pth checkpoint, a .zip, ...)'),
)
_SNIFF_BYTES = 512
_TEXT_CONTROLS = frozenset(b'\t\n\r\f\v')


def is_video_name(path: str) -> bool:
    """Whether the file name ends with one of :data:`VIDEO_EXTENSIONS`."""
    return str(path).lower().endswith(VIDEO_EXTENSIONS)


def non_video_name(path: str) -> Optional[str]:
    """What a file is by its name, if the name says it is no video.

    Args:
        path (str): A file path.

    Returns:
        str, optional: ``'text file'``, ``'image'``, ``'document'``,
        ``'archive or data file'`` or ``'system file'``; None when the name
        does not tell (a video ending, or an unknown one).
    """
    name = osp.basename(str(path)).lower()
    for kind, endings in _NON_VIDEO_NAMES.items():
        if name in endings or name.endswith(endings):
            return kind
    return None


def sniff_non_video(path: str) -> Optional[str]:
    """Read the first bytes of a file; say what it is if it is no video.

    Cheap (one read of 512 bytes); it does not decode anything, so a file
    that passes may still fail to decode.

    Args:
        path (str): An existing file.

    Returns:
        str, optional: E.g. ``'is empty (0 bytes)'``, ``'is a text file
        (first line: "...")'``, ``'is a PNG image'``; None when the file
        starts like a video container or is not recognised.
    """
    with open(path, 'rb') as f:
        head = f.read(_SNIFF_BYTES)
    if not head:
        return 'is empty (0 bytes)'
    if head.startswith(_VIDEO_MAGIC) or head[4:8] in _ISO_BOXES:
        return None
    if head[0] == 0x47 and len(head) > 188 and head[188] == 0x47:
        return None  # MPEG transport stream: a sync byte every 188
    for magic, what in _OTHER_MAGIC:
        if head.startswith(magic):
            return what
    if any(byte < 0x20 and byte not in _TEXT_CONTROLS for byte in head):
        return None  # binary, unknown: left to the decoder
    try:
        # Incremental: the cut at 512 bytes may split a multi-byte character.
        text = codecs.getincrementaldecoder('utf-8')().decode(head)
    except UnicodeDecodeError:
        return None
    first = text.strip().splitlines()[0] if text.strip() else ''
    if len(first) > 60:
        first = first[:57] + '...'
    return f'is a text file (first line: "{first}")'
