package io.smtpreach.probe;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/**
 * A plain socket that can keep the first bytes the server sends after a mark. A failed TLS
 * handshake then tells us what the server really said: an SMTP greeting (plaintext where TLS was
 * expected) or a TLS alert with its exact description code.
 */
final class RecordingSocket extends java.net.Socket {
  static final int RECORD_LIMIT = 128;

  private final byte[] recorded = new byte[RECORD_LIMIT];
  private int recordedLength;
  private boolean recording;
  private InputStream input;

  /** Starts keeping bytes from here on, forgetting what was kept before. */
  synchronized void startRecording() {
    recording = true;
    recordedLength = 0;
  }

  synchronized byte[] recorded() {
    return Arrays.copyOf(recorded, recordedLength);
  }

  private synchronized void keep(byte[] b, int off, int len) {
    if (!recording || len <= 0) {
      return;
    }
    int n = Math.min(len, RECORD_LIMIT - recordedLength);
    System.arraycopy(b, off, recorded, recordedLength, n);
    recordedLength += n;
  }

  @Override
  public synchronized InputStream getInputStream() throws IOException {
    if (input == null) {
      input =
          new FilterInputStream(super.getInputStream()) {
            @Override
            public int read() throws IOException {
              int b = super.read();
              if (b >= 0) {
                keep(new byte[] {(byte) b}, 0, 1);
              }
              return b;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
              int n = super.read(b, off, len);
              keep(b, off, n);
              return n;
            }
          };
    }
    return input;
  }
}
