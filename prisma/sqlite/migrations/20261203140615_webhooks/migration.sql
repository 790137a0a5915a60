-- AlterTable
ALTER TABLE "import_jobs" ADD COLUMN "callback_state" TEXT;
ALTER TABLE "import_jobs" ADD COLUMN "callback_url" TEXT;

-- CreateTable
CREATE TABLE "webhook_deliveries" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "job_id" TEXT NOT NULL,
    "attempt" INTEGER NOT NULL,
    "at" DATETIME NOT NULL,
    "status_code" INTEGER,
    "ok" BOOLEAN NOT NULL,
    "error" TEXT,
    CONSTRAINT "webhook_deliveries_job_id_fkey" FOREIGN KEY ("job_id") REFERENCES "import_jobs" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateIndex
CREATE INDEX "webhook_deliveries_job_id_id_idx" ON "webhook_deliveries"("job_id", "id");

-- CreateIndex
CREATE INDEX "import_jobs_callback_state_idx" ON "import_jobs"("callback_state");
