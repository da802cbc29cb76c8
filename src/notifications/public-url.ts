/**
 * The server's base URL as receivers and Argo CD reach it: PUBLIC_URL when set (behind a load
 * balancer every replica must name the same one), else the address this process listens on.
 */
export class PublicUrl {
  private listening: string | null = null;

  constructor(private readonly config: { publicUrl: string | null; host: string; port: number }) {}

  /** Called once the server listens (its port may have been chosen by the system). */
  setListening(url: string): void {
    this.listening = url.replace(/\/+$/, "");
  }

  get value(): string {
    if (this.config.publicUrl) return this.config.publicUrl;
    if (this.listening) return this.listening;
    const host = this.config.host.includes(":") ? `[${this.config.host}]` : this.config.host;
    return `http://${host}:${this.config.port}`;
  }
}
