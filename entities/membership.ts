import { Column, Entity, Index, PrimaryColumn } from "typeorm";
import { Role } from "./enums.js";

/** A user's role in one project. No row means the project does not exist for that user. */
@Entity("membership")
@Index(["userId", "projectId"], { unique: true })
export class Membership {
  @PrimaryColumn({ type: "varchar", length: 40 })
  id: string;

  @Column({ type: "varchar", length: 40 })
  userId: string;

  @Index()
  @Column({ type: "varchar", length: 40 })
  projectId: string;

  @Column({ type: "varchar", length: 20 })
  role: Role;
}
