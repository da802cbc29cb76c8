import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from "typeorm";
import { TokenKind } from "./enums.js";

/** A bearer token, stored only as its SHA-256 hash. */
@Entity("api_token")
export class ApiToken {
  @PrimaryColumn({ type: "varchar", length: 40 })
  id: string;

  @Index({ unique: true })
  @Column({ type: "varchar", length: 64 })
  tokenHash: string;

  @Column({ type: "varchar", length: 10 })
  kind: TokenKind;

  /** USER tokens act as this user. */
  @Index()
  @Column({ type: "varchar", length: 40, nullable: true })
  userId: string | null;

  /** AGENT tokens are bound to this project. */
  @Column({ type: "varchar", length: 40, nullable: true })
  projectId: string | null;

  @Column({ type: "varchar", length: 200, nullable: true })
  label: string | null;

  @CreateDateColumn()
  createdAt: Date;

  @Column({ type: Date, nullable: true })
  expiresAt: Date | null;

  @Column({ type: Date, nullable: true })
  revokedAt: Date | null;
}
